{#- The run's partition window, half-open: created_at >= min_date and created_at < max_date.
    Dagster passes min_date and max_date through --vars; without them the window is all time. -#}
{% macro in_partition_window(column='created_at') -%}
    {{ column }} >= cast('{{ var("min_date") }}' as timestamp)
    and {{ column }} < cast('{{ var("max_date") }}' as timestamp)
{%- endmacro %}

{#- Pre-hook of the incremental facts: a partition run first removes the window's rows, then
    inserts them again, so reruns and backfills never duplicate a message and messages the
    source no longer has disappear. -#}
{% macro delete_partition_window() -%}
    {% if is_incremental() %}
        delete from {{ this }} where {{ in_partition_window() }}
    {% endif %}
{%- endmacro %}
