-- Every message, both directions, with the score of its current version.
-- A message without a score row, or whose score row was computed for an older version
-- (message_updated_at < updated_at, i.e. edited since it was scored), is 'pending':
-- the next scoring run will score it, and until then it carries no score.
with

messages as (

    select * from {{ ref('stg_support__messages') }}

),

scores as (

    select * from {{ ref('stg_support__message_scores') }}

),

joined as (

    select
        messages.message_id,
        messages.conversation_id,
        messages.customer_id,
        messages.channel,
        messages.direction,
        messages.created_at,
        messages.updated_at,
        messages.subject,
        -- the language the message was scored (or found unsupported) in: the source's, or
        -- the detected one, or its conversation's or customer's for a short text, or 'und'
        coalesce(scores.scored_language, messages.language) as language,
        coalesce(scores.status, 'pending') as status,
        case
            when scores.message_id is null then 'not scored yet'
            else scores.status_reason
        end as status_reason,
        scores.sentiment,
        scores.positive,
        scores.negative,
        scores.neutral,
        scores.mixed,
        scores.score,
        scores.polarity,
        scores.confidence,
        scores.engine,
        scores.engine_version,
        scores.scored_at,
        scores.text_hash

    from messages
    left join scores
        on
            messages.message_id = scores.message_id
            and messages.updated_at <= scores.message_updated_at

)

select * from joined
