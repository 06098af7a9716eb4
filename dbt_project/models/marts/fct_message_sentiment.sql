-- One row per message, both directions, with its sentiment score (when scored).
with

messages as (

    select * from {{ ref('int_messages__scored') }}

),

final as (

    select
        message_id,
        conversation_id,
        customer_id,
        channel,
        direction,
        created_at,
        cast(created_at as date) as created_date,
        updated_at,
        subject,
        language,
        status,
        status_reason,
        sentiment,
        positive,
        negative,
        neutral,
        mixed,
        score,
        polarity,
        confidence,
        engine,
        engine_version,
        scored_at,
        text_hash,
        direction = 'in' as is_inbound,
        status = 'scored' as is_scored

    from messages

)

select * from final
