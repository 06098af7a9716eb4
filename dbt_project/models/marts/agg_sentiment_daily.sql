-- One row per (UTC day, channel) plus one row per day with channel = 'all'.
-- Only inbound messages (written by customers) count. Days without inbound messages have no row.
with

inbound as (

    select
        created_date as day,
        channel,
        status,
        is_scored,
        sentiment,
        score

    from {{ ref('fct_message_sentiment') }}
    where is_inbound

),

per_channel_and_all as (

    select
        day,
        channel,
        status,
        is_scored,
        sentiment,
        score
    from inbound

    union all

    select
        day,
        'all' as channel,
        status,
        is_scored,
        sentiment,
        score
    from inbound

),

daily as (

    select
        day,
        channel,
        {{ inbound_sentiment_counts() }},
        count(*) filter (where not is_scored) as unscored_count,
        count(*) filter (where status = 'unsupported_language') as unsupported_language_count,
        -- kept for the rolling mean: a mean of daily means would weight days, not messages
        sum(score) filter (where is_scored) as score_sum,
        count(score) filter (where is_scored) as score_count

    from per_channel_and_all
    group by day, channel

),

rolling_7d as (

    -- the 7 calendar days ending on `day`: day - 6 .. day, same channel
    select
        daily.day,
        daily.channel,
        sum(window_days.score_sum) / nullif(sum(window_days.score_count), 0) as rolling_7d_mean_score

    from daily
    inner join daily as window_days
        on
            daily.channel = window_days.channel
            and daily.day - 7 < window_days.day
            and daily.day >= window_days.day
    group by daily.day, daily.channel

),

final as (

    select
        daily.day,
        daily.channel,
        daily.inbound_message_count,
        daily.scored_count,
        daily.unscored_count,
        daily.unsupported_language_count,
        daily.positive_count,
        daily.negative_count,
        daily.neutral_count,
        daily.mixed_count,
        daily.mean_score,
        cast(daily.negative_count as double) / nullif(daily.scored_count, 0) as negative_share,
        prev_day.mean_score as mean_score_prev_day,
        daily.mean_score - prev_day.mean_score as change_vs_prev_day,
        rolling_7d.rolling_7d_mean_score,
        daily.mean_score - rolling_7d.rolling_7d_mean_score as change_vs_7d_mean

    from daily
    inner join rolling_7d
        on
            daily.day = rolling_7d.day
            and daily.channel = rolling_7d.channel
    left join daily as prev_day
        on
            daily.channel = prev_day.channel
            and daily.day - 1 = prev_day.day

)

select * from final
