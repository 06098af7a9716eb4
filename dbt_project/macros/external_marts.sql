{#- Lake mode on DuckDB: the marts are written as Parquet by dbt-duckdb's external
    materialization. For a model without rows it inserts one row of nulls before writing the
    file (its own read-back view filters that row out again), so any other engine reading the
    file, Spark or Athena or pyarrow, would take the padding for a row of data. This project's
    write_to_file (it takes precedence over dbt-duckdb's) leaves out a row that is null in every
    column: no mart can have one (each has not-null key columns, tested), so only the padding
    goes and an empty mart is an empty file that still has the columns and their types. -#}
{% macro write_to_file(relation, location, options) -%}
    {%- set columns = adapter.get_columns_in_relation(relation) -%}
    {% call statement('write_to_file') -%}
        copy (
            select * from {{ relation }}
            where not (
                {%- for column in columns %}
                    {{ adapter.quote(column.column) }} is null{% if not loop.last %} and{% endif %}
                {%- endfor %}
            )
        ) to '{{ location }}' ({{ options }})
    {%- endcall %}
{%- endmacro %}
