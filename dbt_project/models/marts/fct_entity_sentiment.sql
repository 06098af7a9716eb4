-- One row per scored message and entity (targeted sentiment): what customers are positive or
-- negative about. Mentions are keyed by the text's hash, so every scored message whose current
-- score has that text_hash gets the text's entities (repeated texts are analysed once).
-- Per entity: probabilities and score are means over its mentions; sentiment is the argmax of
-- the mean probabilities (ties: NEGATIVE, POSITIVE, MIXED, NEUTRAL); polarity uses the neutral band.
with

messages as (

    select * from {{ ref('fct_message_sentiment') }}
    where status = 'scored' and text_hash is not null

),

mentions as (

    select * from {{ ref('stg_support__entity_mentions') }}

),

entities as (

    select
        text_hash,
        entity_index,
        -- the same on every mention of an entity; the first mention's value, deterministically
        {{ arg_min('entity_text', 'mention_index') }} as entity_text,
        {{ arg_min('entity_type', 'mention_index') }} as entity_type,
        count(*) as mention_count,
        avg(score) as score,
        avg(positive) as positive,
        avg(negative) as negative,
        avg(neutral) as neutral,
        avg(mixed) as mixed

    from mentions
    group by text_hash, entity_index

),

final as (

    select
        messages.message_id,
        messages.conversation_id,
        messages.customer_id,
        messages.channel,
        messages.direction,
        messages.is_inbound,
        messages.created_at,
        messages.created_date,
        entities.entity_index,
        entities.entity_text,
        entities.entity_type,
        entities.mention_count,
        entities.score,
        entities.positive,
        entities.negative,
        entities.neutral,
        entities.mixed,
        case
            when
                entities.negative >= entities.positive
                and entities.negative >= entities.mixed
                and entities.negative >= entities.neutral
                then 'NEGATIVE'
            when
                entities.positive >= entities.mixed
                and entities.positive >= entities.neutral
                then 'POSITIVE'
            when entities.mixed >= entities.neutral then 'MIXED'
            else 'NEUTRAL'
        end as sentiment,
        {{ polarity_from_score('entities.score') }} as polarity

    from messages
    inner join entities
        on messages.text_hash = entities.text_hash

)

select * from final
