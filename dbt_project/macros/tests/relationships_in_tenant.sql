{#-
  Like `relationships`, but the parent must be in the same tenant: ids are the merchant's own
  strings and repeat across tenants, so a match in another tenant is a cross-tenant join, not a
  match. NULL references are not checked.
-#}
{% test relationships_in_tenant(model, column_name, to, field) -%}
    select
        child.tenant_id,
        child.{{ column_name }}
    -- `model` may be a filtered subquery with an alias of its own (a test's `where`).
    from (select * from {{ model }}) as child
    where child.{{ column_name }} is not null
        and not exists (
            select 1
            from {{ to }} as parent
            where parent.tenant_id = child.tenant_id
                and parent.{{ field }} = child.{{ column_name }}
        )
{%- endtest %}
