with versions as (
    select * from {{ ref('base_shop__customer_notes') }}
),

current_versions as (
    {{ latest_version('versions', ['tenant_id', 'note_id']) }}
),

final as (
    select
        tenant_id,
        note_id,
        customer_id,
        author,
        body,
        created_at,
        _batch_id,
        _ingested_at
    from current_versions
    where not is_deleted
)

select * from final
