with

source as (

    select * from {{ lake_source('support', 'customers') }}

),

renamed as (

    select
        -- ids
        customer_id,

        -- properties
        name as customer_name,
        locale as customer_locale,
        deleted as is_deleted,

        -- timestamps (UTC)
        created_at,
        updated_at

    from source

)

select * from renamed
