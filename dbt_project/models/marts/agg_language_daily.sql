-- One row per (UTC day, language) of inbound messages: how many were scored, and how many no
-- configured engine supports (stored unscored as 'unsupported_language', never as neutral).
with

inbound as (

    select
        created_date as day,
        coalesce(language, 'und') as language,
        status,
        is_scored,
        score

    from {{ ref('fct_message_sentiment') }}
    where is_inbound

),

final as (

    select
        day,
        language,
        count(*) as inbound_message_count,
        count(*) filter (where is_scored) as scored_count,
        count(*) filter (where status = 'unsupported_language') as unsupported_language_count,
        count(*) filter (
            where not is_scored and status <> 'unsupported_language'
        ) as other_unscored_count,
        avg(score) filter (where is_scored) as mean_score

    from inbound
    group by day, language

)

select * from final
