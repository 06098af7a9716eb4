with

source as (

    select * from {{ lake_source('support', 'message_topics') }}

),

renamed as (

    select
        -- ids
        message_id,
        topic,
        text_hash,
        topic_hash,
        snippet_hash,

        -- what matched
        matched_terms,
        sentence_count,

        -- outcome (of the sentences that mention the topic)
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
        language as scored_language,
        evaluated_at

    from source

)

select * from renamed
