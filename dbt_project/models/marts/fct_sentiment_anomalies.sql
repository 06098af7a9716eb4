-- One row per (UTC day, channel) whose negative share of scored inbound messages leaves the
-- channel's band: the mean +/- anomaly_band_sd standard deviations of the negative share over
-- the previous anomaly_window_days calendar days (day - 28 .. day - 1). The standard deviation
-- combines the baseline days' spread with the day's own sampling error: a share measured on
-- 25 messages moves by chance alone about twice as much as one on 100, and a band from the
-- spread alone, estimated on 7 to 28 days, flagged ordinary small days about once in 200.
-- Only days with at least anomaly_min_messages scored inbound messages are judged or used as
-- baseline, and a day needs anomaly_min_baseline_days such days before it, so that a quiet
-- day or a new channel raises nothing. The 'all' channel of agg_sentiment_daily is left out.
{%- set min_messages = var('anomaly_min_messages') %}
with

daily as (

    select
        day,
        channel,
        scored_count,
        negative_count,
        negative_share

    from {{ ref('agg_sentiment_daily') }}
    where channel != 'all' and scored_count >= {{ min_messages }}

),

baselines as (

    select
        daily.day,
        daily.channel,
        count(baseline.day) as baseline_days,
        avg(baseline.negative_share) as baseline_mean,
        stddev_samp(baseline.negative_share) as baseline_stddev,
        -- the usual rate for the sampling error, pooled over the baseline days with one
        -- pseudo-message of each kind, so that a baseline that was always 0% (or 100%)
        -- negative still expects some chance variation instead of flagging any change
        -- (in doubles: Spark would divide the decimals 1.0 and 2.0 make to a rounded decimal)
        (cast(sum(baseline.negative_count) as double) + 1.0)
        / (cast(sum(baseline.scored_count) as double) + 2.0) as usual_rate

    from daily
    inner join daily as baseline
        on
            daily.channel = baseline.channel
            and daily.day - {{ var('anomaly_window_days') }} <= baseline.day
            and daily.day > baseline.day
    group by daily.day, daily.channel

),

judged as (

    select
        daily.*,
        baselines.baseline_days,
        baselines.baseline_mean,
        baselines.baseline_stddev,
        -- the binomial standard error of a share of scored_count messages at the usual rate
        sqrt(
            baselines.usual_rate * (1 - baselines.usual_rate) / daily.scored_count
        ) as sampling_stddev

    from daily
    inner join baselines
        on
            daily.day = baselines.day
            and daily.channel = baselines.channel
    where baselines.baseline_days >= {{ var('anomaly_min_baseline_days') }}

),

banded as (

    select
        *,
        sqrt(power(baseline_stddev, 2) + power(sampling_stddev, 2)) as band_stddev

    from judged

),

bounded as (

    select
        *,
        baseline_mean - {{ var('anomaly_band_sd') }} * band_stddev as band_lower,
        baseline_mean + {{ var('anomaly_band_sd') }} * band_stddev as band_upper

    from banded

),

final as (

    select
        channel || ':' || cast(day as {{ dbt.type_string() }}) as anomaly_id,
        day,
        channel,
        scored_count,
        negative_count,
        negative_share,
        baseline_mean,
        baseline_stddev,
        sampling_stddev,
        band_stddev,
        band_lower,
        band_upper,
        baseline_days,
        case when negative_share > band_upper then 'above' else 'below' end as direction,
        (negative_share - baseline_mean) / band_stddev as z_score

    from bounded
    where negative_share > band_upper or negative_share < band_lower

)

select * from final
