with versions as (
    select * from {{ ref('base_shop__refunds') }}
),

current_versions as (
    {{ latest_version('versions', ['tenant_id', 'refund_id']) }}
),

final as (
    select
        tenant_id,
        refund_id,
        order_id,
        reason,
        status,
        currency,
        amount_minor,
        created_at,
        _batch_id,
        _ingested_at
    from current_versions
    where not is_deleted
)

select * from final
