-- One row per sentiment shift: a customer whose polarity flipped between their last two
-- conversations, a conversation that dropped from its first to its last inbound message, and a
-- conversation that recovered across the first agent reply (agent impact).
-- A change counts when it reaches shift_threshold; differences within 1e-9 of it count as
-- reaching it, so that 0.2 - 0.7 (-0.49999999999999994 in floating point) is a drop of 0.5.
{%- set threshold = var('shift_threshold') %}
with

messages as (

    select * from {{ ref('fct_message_sentiment') }}

),

conversations as (

    select * from {{ ref('fct_conversation_sentiment') }}

),

scored_inbound as (

    select
        conversation_id,
        created_at,
        score,
        confidence

    from messages
    where is_inbound and is_scored and score is not null

),

last_scored as (

    select
        conversation_id,
        max(created_at) as last_scored_at

    from scored_inbound
    group by conversation_id

),

first_replies as (

    select
        conversation_id,
        min(created_at) as agent_replied_at

    from messages
    where not is_inbound
    group by conversation_id

),

scored_conversations as (

    select
        conversations.*,
        last_scored.last_scored_at,
        row_number() over (
            partition by conversations.customer_id
            order by conversations.started_at desc, conversations.conversation_id desc
        ) as recency

    from conversations
    inner join last_scored
        on conversations.conversation_id = last_scored.conversation_id
    where conversations.sentiment_score is not null

),

customer_flips as (

    select
        'customer_flip' as shift_type,
        latest.customer_id,
        latest.conversation_id,
        previous.conversation_id as previous_conversation_id,
        latest.channel,
        previous.sentiment_score as before_score,
        latest.sentiment_score as after_score,
        latest.last_scored_at as occurred_at,
        cast(null as timestamp) as agent_replied_at

    from scored_conversations as latest
    inner join scored_conversations as previous
        on
            latest.customer_id = previous.customer_id
            and latest.recency = 1
            and previous.recency = 2
    where latest.polarity * previous.polarity = -1

),

conversation_drops as (

    select
        'conversation_drop' as shift_type,
        conversations.customer_id,
        conversations.conversation_id,
        null as previous_conversation_id,
        conversations.channel,
        conversations.first_inbound_score as before_score,
        conversations.last_inbound_score as after_score,
        last_scored.last_scored_at as occurred_at,
        cast(null as timestamp) as agent_replied_at

    from conversations
    inner join last_scored
        on conversations.conversation_id = last_scored.conversation_id
    where
        conversations.scored_inbound_count >= 2
        and conversations.last_inbound_score - conversations.first_inbound_score
        <= -{{ threshold }} + 1e-9

),

around_first_reply as (

    -- inbound messages sent at the very second of the first reply are on neither side
    select
        scored_inbound.conversation_id,
        {{ dbt.any_value('first_replies.agent_replied_at') }} as agent_replied_at,
        {{ weighted_score(
            'scored_inbound.score',
            'scored_inbound.confidence',
            'scored_inbound.created_at < first_replies.agent_replied_at'
        ) }} as before_score,
        {{ weighted_score(
            'scored_inbound.score',
            'scored_inbound.confidence',
            'scored_inbound.created_at > first_replies.agent_replied_at'
        ) }} as after_score,
        max(scored_inbound.created_at) as occurred_at

    from scored_inbound
    inner join first_replies
        on scored_inbound.conversation_id = first_replies.conversation_id
    group by scored_inbound.conversation_id

),

conversation_recoveries as (

    select
        'conversation_recovery' as shift_type,
        conversations.customer_id,
        conversations.conversation_id,
        null as previous_conversation_id,
        conversations.channel,
        around_first_reply.before_score,
        around_first_reply.after_score,
        around_first_reply.occurred_at,
        around_first_reply.agent_replied_at

    from around_first_reply
    inner join conversations
        on around_first_reply.conversation_id = conversations.conversation_id
    where
        around_first_reply.occurred_at > around_first_reply.agent_replied_at
        and around_first_reply.after_score - around_first_reply.before_score
        >= {{ threshold }} - 1e-9

),

shifts as (

    select * from customer_flips
    union all
    select * from conversation_drops
    union all
    select * from conversation_recoveries

),

final as (

    select
        case
            when shift_type = 'customer_flip'
                then shift_type || ':' || customer_id || ':' || conversation_id
            else shift_type || ':' || conversation_id
        end as shift_id,
        shift_type,
        case when after_score < before_score then 'negative' else 'positive' end as direction,
        customer_id,
        conversation_id,
        cast(previous_conversation_id as {{ dbt.type_string() }}) as previous_conversation_id,
        channel,
        before_score,
        after_score,
        after_score - before_score as score_change,
        {{ polarity_from_score('before_score') }} as before_polarity,
        {{ polarity_from_score('after_score') }} as after_polarity,
        occurred_at,
        cast(occurred_at as date) as event_date,
        agent_replied_at

    from shifts

)

select * from final
