{#- Fails once per row where any of `columns` is null, naming the null columns.
    One test per model instead of one per column: each test is a dbt node, an asset check and
    a query, and the daily run pays for every one of them. -#}
{% test not_null_columns(model, columns) %}
with

nulls as (

    select
        concat_ws(
            ', ',
            {%- for column in columns %}
                case when {{ column }} is null then '{{ column }}' end
                {%- if not loop.last %},{% endif %}
            {%- endfor %}
        ) as null_columns
    from {{ model }}
    where
        {%- for column in columns %}
            {{ column }} is null{% if not loop.last %} or{% endif %}
        {%- endfor %}

)

select * from nulls
{% endtest %}
