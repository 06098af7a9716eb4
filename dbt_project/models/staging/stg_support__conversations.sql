with

source as (

    select * from {{ lake_source('support', 'conversations') }}

),

renamed as (

    select
        -- ids
        conversation_id,
        customer_id,

        -- properties
        name as conversation_name,
        lower(status) as conversation_status,
        channels,
        assigned_user_ids,
        assigned_team_ids,
        message_count as kustomer_message_count,
        deleted as is_deleted,

        -- timestamps (UTC)
        created_at,
        updated_at

    from source

)

select * from renamed
