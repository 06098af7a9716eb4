-- One row per scored inbound message and topic of topics.yml that its text mentions: the
-- sentiment of the sentences that mention the topic. A topic row counts only while its message
-- is a scored inbound message whose current text is the one that was matched (same text_hash);
-- rows of edited, rescored, unscored or deleted messages wait for the next message_topics run.
with

topics as (

    select * from {{ ref('stg_support__message_topics') }}

),

messages as (

    select * from {{ ref('fct_message_sentiment') }}
    where is_inbound and is_scored

),

final as (

    select
        topics.message_id,
        topics.topic,
        messages.conversation_id,
        messages.customer_id,
        messages.channel,
        messages.created_at,
        messages.created_date,
        -- ISO week: Monday to Sunday, UTC
        cast({{ dbt.date_trunc('week', 'messages.created_date') }} as date) as week_start,
        topics.matched_terms,
        topics.sentence_count,
        topics.score,
        topics.polarity,
        topics.sentiment,
        topics.confidence,
        topics.engine

    from topics
    inner join messages
        on
            topics.message_id = messages.message_id
            and topics.text_hash = messages.text_hash

)

select * from final
