with

source as (

    select * from {{ lake_source('support', 'message_scores') }}

),

renamed as (

    select
        -- ids
        message_id,
        text_hash,

        -- scoring input
        cleaned_text,
        language as scored_language,

        -- outcome
        status,
        status_reason,
        upper(sentiment) as sentiment,
        positive,
        negative,
        neutral,
        mixed,
        score,
        polarity,
        confidence,

        -- provenance
        engine,
        engine_version,
        scored_at,
        message_updated_at

    from source

)

select * from renamed
