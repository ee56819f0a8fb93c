{#-
  Per tenant, sum(column_name) over the model equals sum(to_column) over `to` (optionally
  filtered by `to_where`; the model side is filtered by the test's own `where` config). A tenant
  present on one side only fails as well. This is how "money adds up" and "every mart row stays
  in its source rows' tenant" are checked: a row landing in the wrong tenant moves a total.
-#}
{% test reconciles_by_tenant(model, column_name, to, to_column, to_where='1 = 1') -%}
    with model_totals as (
        select tenant_id, sum({{ column_name }}) as total
        from {{ model }}
        group by tenant_id
    ),

    source_totals as (
        select tenant_id, sum({{ to_column }}) as total
        from {{ to }}
        where {{ to_where }}
        group by tenant_id
    )

    select
        coalesce(model_totals.tenant_id, source_totals.tenant_id) as tenant_id,
        model_totals.total as model_total,
        source_totals.total as source_total
    from model_totals
    full outer join source_totals
        on model_totals.tenant_id = source_totals.tenant_id
    where model_totals.total is null
        or source_totals.total is null
        or model_totals.total <> source_totals.total
{%- endtest %}
