-- One row per customer. Windows are relative to as_of, the newest message in the warehouse
-- (not the wall clock), so a rebuild over the same data gives the same answer:
--   last window:  created_at >  as_of - window_days
--   prior window: created_at >  as_of - 2 * window_days and created_at <= as_of - window_days
{%- set window_days = var('window_days') %}
with

messages as (

    select * from {{ ref('fct_message_sentiment') }}

),

conversations as (

    select * from {{ ref('fct_conversation_sentiment') }}

),

-- Kustomer's customer profiles (API source only; no rows for file sources)
kustomer_customers as (

    select * from {{ ref('stg_support__customers') }}
    where not is_deleted

),

as_of as (

    select max(created_at) as as_of from messages

),

windowed as (

    select
        messages.*,
        as_of.as_of,
        messages.created_at > {{ dbt.dateadd('day', '-' ~ window_days, 'as_of.as_of') }} as in_last_window,
        (
            messages.created_at > {{ dbt.dateadd('day', '-2 * ' ~ window_days, 'as_of.as_of') }}
            and messages.created_at <= {{ dbt.dateadd('day', '-' ~ window_days, 'as_of.as_of') }}
        ) as in_prior_window

    from messages
    cross join as_of

),

customer_messages as (

    select
        customer_id,
        {{ dbt.any_value('as_of') }} as as_of,
        count(distinct conversation_id) as conversation_count,
        min(created_at) as first_seen_at,
        max(created_at) as last_seen_at,
        count(*) filter (where is_inbound) as inbound_message_count,
        count(*) filter (where is_inbound and is_scored) as scored_inbound_count,
        {{ weighted_score('score', 'confidence', 'is_inbound and is_scored') }} as lifetime_score,
        avg(confidence) filter (where is_inbound and is_scored) as lifetime_confidence,
        {{ weighted_score('score', 'confidence', 'is_inbound and is_scored and in_last_window') }}
            as score_last_30d,
        {{ weighted_score('score', 'confidence', 'is_inbound and is_scored and in_prior_window') }}
            as score_prior_30d

    from windowed
    group by customer_id

),

last_conversations as (

    select
        customer_id,
        conversation_id as last_conversation_id,
        sentiment_score as last_conversation_score,
        polarity as last_conversation_polarity,
        confidence as last_conversation_confidence

    from conversations
    qualify row_number() over (
        partition by customer_id
        order by last_message_at desc, conversation_id desc
    ) = 1

),

last_inbound as (

    select
        customer_id,
        score as last_inbound_score,
        polarity as last_inbound_polarity,
        confidence as last_inbound_confidence

    from messages
    where is_inbound and is_scored and score is not null
    qualify row_number() over (
        partition by customer_id
        order by created_at desc, message_id desc
    ) = 1

),

final as (

    select
        customer_messages.customer_id,
        customer_messages.conversation_count,
        customer_messages.first_seen_at,
        customer_messages.last_seen_at,
        customer_messages.inbound_message_count,
        customer_messages.scored_inbound_count,
        customer_messages.lifetime_score,
        {{ polarity_from_score('customer_messages.lifetime_score') }} as lifetime_polarity,
        customer_messages.lifetime_confidence,
        customer_messages.score_last_30d,
        customer_messages.score_prior_30d,
        customer_messages.score_last_30d - customer_messages.score_prior_30d as trend_30d,
        customer_messages.as_of,
        last_conversations.last_conversation_id,
        last_conversations.last_conversation_score,
        last_conversations.last_conversation_polarity,
        last_conversations.last_conversation_confidence,
        last_inbound.last_inbound_score,
        last_inbound.last_inbound_polarity,
        last_inbound.last_inbound_confidence,
        kustomer_customers.customer_name,
        kustomer_customers.customer_locale

    from customer_messages
    left join last_conversations
        on customer_messages.customer_id = last_conversations.customer_id
    left join last_inbound
        on customer_messages.customer_id = last_inbound.customer_id
    left join kustomer_customers
        on customer_messages.customer_id = kustomer_customers.customer_id

)

select * from final
