{#- Confidence-weighted mean of score, falling back to the plain mean when every confidence
    is 0; null when no row qualifies. `filter` is a boolean SQL expression selecting the rows
    to aggregate (e.g. scored inbound messages); rows with a null score are always ignored. -#}
{% macro weighted_score(score, confidence, filter=none) -%}
    {%- set where -%}
        {{ score }} is not null{% if filter %} and ({{ filter }}){% endif %}
    {%- endset -%}
    case
        when sum({{ confidence }}) filter (where {{ where }}) > 0
            then
                sum({{ score }} * {{ confidence }}) filter (where {{ where }})
                / sum({{ confidence }}) filter (where {{ where }})
        else avg({{ score }}) filter (where {{ where }})
    end
{%- endmacro %}

{#- -1, 0 or 1 from a score in [-1, 1]: |score| < neutral_band is neutral (0), the band's edge
    is polar; null when the score is null. -#}
{% macro polarity_from_score(score) -%}
    cast(
        case
            when {{ score }} is null then null
            when {{ score }} >= {{ var('neutral_band') }} then 1
            when {{ score }} <= -{{ var('neutral_band') }} then -1
            else 0
        end as integer
    )
{%- endmacro %}

{#- The counts and mean of a group of inbound messages (columns is_scored, sentiment, score),
    shared by the daily and weekly trends so that both count the same way. -#}
{% macro inbound_sentiment_counts() -%}
    count(*) as inbound_message_count,
    count(*) filter (where is_scored) as scored_count,
    count(*) filter (where is_scored and sentiment = 'POSITIVE') as positive_count,
    count(*) filter (where is_scored and sentiment = 'NEGATIVE') as negative_count,
    count(*) filter (where is_scored and sentiment = 'NEUTRAL') as neutral_count,
    count(*) filter (where is_scored and sentiment = 'MIXED') as mixed_count,
    avg(score) filter (where is_scored) as mean_score
{%- endmacro %}
