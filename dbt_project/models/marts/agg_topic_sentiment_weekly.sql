-- One row per ISO week (Monday to Sunday, UTC) and topic mentioned in it: how many scored
-- inbound messages mention the topic, their mean topic score and the share that is negative.
-- Weeks in which a topic is not mentioned have no row for it.
with

mentions as (

    select * from {{ ref('fct_topic_sentiment') }}

),

weekly as (

    select
        week_start,
        topic,
        count(*) as mention_count,
        avg(score) as mean_score,
        count(*) filter (where sentiment = 'NEGATIVE') as negative_count

    from mentions
    group by week_start, topic

),

final as (

    select
        week_start,
        {{ iso_year('week_start') }} as iso_year,
        weekofyear(week_start) as iso_week,
        {{ iso_year('week_start') }} || '-W'
        || lpad(cast(weekofyear(week_start) as {{ dbt.type_string() }}), 2, '0') as week_label,
        topic,
        mention_count,
        mean_score,
        negative_count,
        cast(negative_count as double) / mention_count as negative_share

    from weekly

)

select * from final
