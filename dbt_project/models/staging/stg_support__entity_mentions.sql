with

source as (

    select * from {{ lake_source('support', 'entity_mentions') }}

),

renamed as (

    select
        -- ids
        text_hash,
        entity_index,
        mention_index,

        -- entity and mention
        entity_text,
        upper(entity_type) as entity_type,
        mention_text,
        begin_offset,
        end_offset,

        -- outcome
        upper(sentiment) as sentiment,
        positive,
        negative,
        neutral,
        mixed,
        score,

        -- provenance
        engine,
        engine_version,
        scored_at

    from source

)

select * from renamed
