{#- The lake mode: with var('lake_root') set (a folder or s3://bucket/prefix), the staging
    models read the `support` source's tables from the Parquet files that the Python side
    writes (orchestration/lake/layout.py) instead of DuckDB's raw schema:

        <root>/messages/day=YYYY-MM-DD/data.parquet        hive-partitioned by UTC created_at day
        <root>/message_scores/day=YYYY-MM-DD/data.parquet  (a table without rows: day=1970-01-01)
        <root>/<table>/data.parquet                        conversations, customers,
                                                           entity_mentions, message_topics

    The files have exactly the columns of raw.<table> (orchestration/raw_schema.py); the two
    partitioned tables are read with `day` (a date, from the folder name) as well, and a filter
    on it reads only that day's files. Each engine's reader lists the files on every query, so a
    day that a partition run has swapped in is read whole, never half.

    Why a macro in the staging models rather than the source's schema pointing at views created
    by an on-run-start hook: a hook is a node of every dbt invocation (it would be a result of
    the file mode's runs too, unit tests included), and views created by several models at once
    would race to create their schema (DuckDB: "Catalog write-write conflict"). The reader
    expression needs no DDL at all, and the file mode compiles to exactly what it did. -#}

{#- `source(source_name, table_name)` in the DuckDB file mode, unchanged; the table's files in
    the lake mode. source() is called either way, so lineage (and Dagster's asset graph) keeps
    the source. -#}
{% macro lake_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set root = (var('lake_root', '') or '') | trim -%}
    {%- if root -%}
        {{- adapter.dispatch('lake_table')(
            root.rstrip('/'), table_name, table_name in ['messages', 'message_scores']
        ) -}}
    {%- elif target.type != 'duckdb' -%}
        {{- exceptions.raise_compiler_error(
            "The " ~ target.name ~ " target reads the sources from the Parquet lake only: "
            ~ "pass --vars '{\"lake_root\": \"/path/or/s3://bucket/prefix\"}'"
        ) -}}
    {%- else -%}
        {{- relation -}}
    {%- endif -%}
{%- endmacro %}

{#- DuckDB: read_parquet over the table's files; `day` typed as a date explicitly. -#}
{% macro default__lake_table(root, table, partitioned) -%}
    {%- if partitioned -%}
        read_parquet('{{ root }}/{{ table }}/*/*.parquet', hive_partitioning = true, hive_types = {'day': date})
    {%- else -%}
        read_parquet('{{ root }}/{{ table }}/*.parquet')
    {%- endif -%}
{%- endmacro %}

{#- Spark: the table's folder (parquet.`<folder>`), so that Spark's partition discovery adds
    `day` from day=YYYY-MM-DD (a date). Parquet timestamps written without a time zone
    (DuckDB's TIMESTAMP, isAdjustedToUTC=false) are read as TIMESTAMP_NTZ, the same naive UTC
    values (profiles.yml also makes `timestamp` mean TIMESTAMP_NTZ and the session zone UTC).
    An s3:// root is read through Hadoop's s3a connector, which needs hadoop-aws on Spark's
    classpath and the spark.hadoop.fs.s3a.* settings (not part of the local profile). -#}
{% macro spark__lake_table(root, table, partitioned) -%}
    {%- if root.startswith('s3://') -%}
        {%- set root = 's3a://' ~ root[5:] -%}
    {%- endif -%}
    parquet.`{{ root }}/{{ table }}`
{%- endmacro %}

{#- Pre-hook of every model (dbt_project.yml): a lake on S3 read by DuckDB needs the httpfs
    extension and the S3 settings in the process before any model reads or writes a file.
    The extension is loaded from the file given in var('httpfs_extension') (the PyPI package
    duckdb-extension-httpfs; DuckDB's own INSTALL downloads from the internet), the settings
    come from the vars s3_endpoint, s3_region, s3_url_style and s3_use_ssl and are set
    globally, for every thread's cursor. Credentials are never vars: httpfs reads
    AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from the environment.
    Renders to nothing (and runs nothing) otherwise: the file mode, a local lake, Spark. -#}
{% macro lake_setup() -%}
    {{- adapter.dispatch('lake_setup')() -}}
{%- endmacro %}

{% macro default__lake_setup() -%}
    {%- set root = (var('lake_root', '') or '') | trim -%}
    {%- if root.startswith('s3://') -%}
        {%- if var('httpfs_extension', '') -%}
            load '{{ var("httpfs_extension") }}';
        {%- endif -%}
        {%- for setting in ['s3_endpoint', 's3_region', 's3_url_style', 's3_use_ssl'] -%}
            {%- if var(setting, '') | string | length %}
set global {{ setting }} = '{{ var(setting) }}';
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro spark__lake_setup() -%}
{%- endmacro %}
