-- One row per ISO week (Monday to Sunday, UTC) and channel, plus one row per week with
-- channel = 'all'. Only inbound messages (written by customers) count; weeks without inbound
-- messages have no row.
with

inbound as (

    select
        cast({{ dbt.date_trunc('week', 'created_date') }} as date) as week_start,
        channel,
        is_scored,
        sentiment,
        score

    from {{ ref('fct_message_sentiment') }}
    where is_inbound

),

per_channel_and_all as (

    select
        week_start,
        channel,
        is_scored,
        sentiment,
        score
    from inbound

    union all

    select
        week_start,
        'all' as channel,
        is_scored,
        sentiment,
        score
    from inbound

),

weekly as (

    select
        week_start,
        channel,
        {{ inbound_sentiment_counts() }}

    from per_channel_and_all
    group by week_start, channel

),

with_share as (

    select
        *,
        cast(negative_count as double) / nullif(scored_count, 0) as negative_share

    from weekly

),

final as (

    select
        this_week.week_start,
        {{ iso_year('this_week.week_start') }} as iso_year,
        weekofyear(this_week.week_start) as iso_week,
        {{ iso_year('this_week.week_start') }} || '-W'
        || lpad(cast(weekofyear(this_week.week_start) as {{ dbt.type_string() }}), 2, '0') as week_label,
        this_week.channel,
        this_week.inbound_message_count,
        this_week.scored_count,
        this_week.positive_count,
        this_week.negative_count,
        this_week.neutral_count,
        this_week.mixed_count,
        this_week.mean_score,
        this_week.negative_share,
        prev_week.mean_score as mean_score_prev_week,
        this_week.mean_score - prev_week.mean_score as change_vs_prev_week,
        prev_week.negative_share as negative_share_prev_week,
        this_week.negative_share - prev_week.negative_share as negative_share_change_vs_prev_week

    from with_share as this_week
    left join with_share as prev_week
        on
            this_week.channel = prev_week.channel
            and this_week.week_start - 7 = prev_week.week_start

)

select * from final
