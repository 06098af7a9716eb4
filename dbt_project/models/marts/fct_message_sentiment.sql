-- One row per message, both directions, with its sentiment score (when scored).
-- DuckDB file mode: incremental by partition window, a run replaces the rows created in its
-- window. Lake mode and Spark: rebuilt whole, like the other marts (a Parquet file or a Parquet
-- table cannot delete a window's rows), so the window vars do not narrow it there.
{{
    config(
        materialized=(
            'incremental' if target.type == 'duckdb' and not var('lake_root', '')
            else 'external' if target.type == 'duckdb' else 'table'
        ),
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_partition_window() }}"
    )
}}

with

messages as (

    select * from {{ ref('int_messages__scored') }}
    {% if is_incremental() %}
        where {{ in_partition_window() }}
    {% endif %}

),

final as (

    select
        message_id,
        conversation_id,
        customer_id,
        channel,
        direction,
        created_at,
        cast(created_at as date) as created_date,
        updated_at,
        subject,
        language,
        status,
        status_reason,
        sentiment,
        positive,
        negative,
        neutral,
        mixed,
        score,
        polarity,
        confidence,
        engine,
        engine_version,
        scored_at,
        text_hash,
        direction = 'in' as is_inbound,
        status = 'scored' as is_scored

    from messages

)

select * from final
