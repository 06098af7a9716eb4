with

source as (

    select * from {{ lake_source('support', 'messages') }}

),

renamed as (

    select
        -- ids
        message_id,
        conversation_id,
        customer_id,

        -- properties
        lower(channel) as channel,
        lower(direction) as direction,
        body,
        subject,
        language,

        -- timestamps (UTC)
        created_at,
        updated_at,

        -- lineage
        source_name,
        source_row,
        ingested_at

    from source

)

select * from renamed
