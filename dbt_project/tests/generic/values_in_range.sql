{#- Fails once per (column, value) outside its range; `ranges` maps each column to
    [min_value, max_value], both inclusive. Nulls pass (not_null_columns checks them).
    One test per model instead of one per column, for the same reason as not_null_columns. -#}
{% test values_in_range(model, ranges) %}
with

out_of_range as (

    {%- for column, bounds in ranges.items() %}
        select
            '{{ column }}' as column_name,
            cast({{ column }} as double) as out_of_range_value
        from {{ model }}
        where {{ column }} < {{ bounds[0] }} or {{ column }} > {{ bounds[1] }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}

)

select * from out_of_range
{% endtest %}
