{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'refund_id'],
) }}

with refund_versions as (
    select * from {{ ref('base_shop__refunds') }}
    where {{ landed_since_watermark() }}
),

changed_refunds as (
    {{ latest_version('refund_versions', ['tenant_id', 'refund_id']) }}
),

final as (
    select
        -- ids
        tenant_id,
        refund_id,
        order_id,
        status,
        reason,
        -- amounts
        currency,
        amount_minor,
        -- flags
        status = 'succeeded' as is_succeeded,
        -- timestamps
        created_at,
        -- lineage
        _batch_id,
        _ingested_at,
        is_deleted
    from changed_refunds
)

{{ emit_changes('final') }}
