{#- Where DuckDB and Spark SQL differ and no dbt cross-database macro bridges the difference
    exactly. Each macro is dispatched (adapter.dispatch): default__ is DuckDB's SQL, unchanged
    from before the Spark target existed, and spark__ the equivalent that gives the same values
    (the equality check, bench/spark_equality.py, compares every mart built both ways).

    What needs no macro (both engines, Spark >= 4.0, accept the same SQL with the same meaning):
    aggregate FILTER (where ...), QUALIFY, cast(... as double/integer/date), `date - integer`,
    `||`, stddev_samp, power(), concat_ws, lpad, nullif. Bridged by dbt's own macros:
    dbt.date_trunc('week', ...) (both truncate to the ISO week's Monday), dbt.type_string()
    (DuckDB's VARCHAR; Spark's varchar needs a length), dbt.any_value, dbt.dateadd (with the
    spark__dateadd below). -#}

{#- The ISO-8601 year of a date (the year its ISO week belongs to: 2027-01-01 is in 2026-W53).
    DuckDB has isoyear(); Spark has no such function, only extract(yearofweek from ...). Both
    engines' weekofyear() is the ISO week number already. -#}
{% macro iso_year(date) -%}
    {{ return(adapter.dispatch('iso_year')(date)) }}
{%- endmacro %}

{% macro default__iso_year(date) -%}
    isoyear({{ date }})
{%- endmacro %}

{% macro spark__iso_year(date) -%}
    extract(yearofweek from {{ date }})
{%- endmacro %}

{#- The value of `value` on the row with the smallest `ordering` in the group (null rows of
    `ordering` ignored). DuckDB calls it arg_min, Spark min_by; dbt has no macro for it. Ties
    are not broken the same way by the two engines: callers order by a unique column. -#}
{% macro arg_min(value, ordering) -%}
    {{ return(adapter.dispatch('arg_min')(value, ordering)) }}
{%- endmacro %}

{% macro default__arg_min(value, ordering) -%}
    arg_min({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro spark__arg_min(value, ordering) -%}
    min_by({{ value }}, {{ ordering }})
{%- endmacro %}

{#- dbt-spark's own spark__dateadd goes through to_unix_timestamp, i.e. whole seconds: a
    timestamp with a fraction of a second (Kustomer's are in milliseconds) comes back without
    it, and as a TIMESTAMP (session time zone) even from a TIMESTAMP_NTZ. timestampadd keeps
    the microseconds and the input's type, like DuckDB's `+ interval`. This project's version
    takes precedence over dbt-spark's (dbt's dispatch looks in the root project first). -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}
