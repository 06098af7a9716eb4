-- One row per conversation. Only scored inbound messages (written by the customer) carry
-- the conversation's sentiment; outbound messages only count as messages.
with

messages as (

    select * from {{ ref('fct_message_sentiment') }}

),

-- Kustomer's own conversation attributes (API source only; no rows for file sources)
kustomer_conversations as (

    select * from {{ ref('stg_support__conversations') }}
    where not is_deleted

),

first_messages as (

    select
        conversation_id,
        customer_id,
        channel

    from messages
    qualify row_number() over (
        partition by conversation_id
        order by created_at, message_id
    ) = 1

),

scored_inbound as (

    select
        conversation_id,
        score,
        row_number() over (
            partition by conversation_id
            order by created_at, message_id
        ) as rank_first,
        row_number() over (
            partition by conversation_id
            order by created_at desc, message_id desc
        ) as rank_last

    from messages
    where is_inbound and is_scored and score is not null

),

first_last as (

    select
        conversation_id,
        max(score) filter (where rank_first = 1) as first_inbound_score,
        max(score) filter (where rank_last = 1) as last_inbound_score

    from scored_inbound
    group by conversation_id

),

aggregated as (

    select
        conversation_id,
        min(created_at) as started_at,
        max(created_at) as last_message_at,
        count(*) as message_count,
        count(*) filter (where is_inbound) as inbound_message_count,
        count(*) filter (where not is_inbound) as outbound_message_count,
        count(*) filter (where is_inbound and is_scored) as scored_inbound_count,
        count(*) filter (where is_inbound and not is_scored) as unscored_inbound_count,
        count(*) filter (where is_inbound and is_scored and sentiment = 'POSITIVE') as positive_count,
        count(*) filter (where is_inbound and is_scored and sentiment = 'NEGATIVE') as negative_count,
        count(*) filter (where is_inbound and is_scored and sentiment = 'NEUTRAL') as neutral_count,
        count(*) filter (where is_inbound and is_scored and sentiment = 'MIXED') as mixed_count,
        {{ weighted_score('score', 'confidence', 'is_inbound and is_scored') }} as sentiment_score,
        avg(confidence) filter (where is_inbound and is_scored) as confidence

    from messages
    group by conversation_id

),

final as (

    select
        aggregated.conversation_id,
        first_messages.customer_id,
        first_messages.channel,
        aggregated.started_at,
        aggregated.last_message_at,
        aggregated.message_count,
        aggregated.inbound_message_count,
        aggregated.outbound_message_count,
        aggregated.scored_inbound_count,
        aggregated.unscored_inbound_count,
        aggregated.positive_count,
        aggregated.negative_count,
        aggregated.neutral_count,
        aggregated.mixed_count,
        aggregated.sentiment_score,
        {{ polarity_from_score('aggregated.sentiment_score') }} as polarity,
        aggregated.confidence,
        first_last.first_inbound_score,
        first_last.last_inbound_score,
        first_last.last_inbound_score - first_last.first_inbound_score as sentiment_change,
        kustomer_conversations.conversation_name,
        kustomer_conversations.conversation_status,
        kustomer_conversations.assigned_user_ids,
        kustomer_conversations.assigned_team_ids

    from aggregated
    inner join first_messages
        on aggregated.conversation_id = first_messages.conversation_id
    left join first_last
        on aggregated.conversation_id = first_last.conversation_id
    left join kustomer_conversations
        on aggregated.conversation_id = kustomer_conversations.conversation_id

)

select * from final
