{#
    The primary-key test for a composite key: no two rows share the same values in all the
    given columns. (dbt_utils has one; this project has no package dependencies.)
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

key_counts as (

    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}

)

select * from key_counts
where row_count > 1

{% endtest %}
