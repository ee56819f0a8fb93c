{{ config(
    materialized='incremental',
    incremental_strategy='apply_changes',
    unique_key=['tenant_id', 'customer_id'],
) }}

-- Incremental like the facts (macros/incremental.sql). A row depends on its customer's latest
-- version and the customer's current notes, so a run recomputes the customers with a version
-- landed since the watermark and those a note version landed since then belongs or belonged
-- to (a deleted note's row carries only its id: its customer comes from its earlier versions).
-- _ingested_at is the newest of the customer's version and current notes.
with new_customer_versions as (
    select tenant_id, customer_id
    from {{ ref('base_shop__customers') }}
    where {{ landed_since_watermark() }}
),

new_note_versions as (
    select tenant_id, note_id
    from {{ ref('base_shop__customer_notes') }}
    where {{ landed_since_watermark() }}
),

note_customers as (
    select
        notes.tenant_id,
        notes.customer_id
    from {{ ref('base_shop__customer_notes') }} as notes
    inner join new_note_versions as changed
        on notes.tenant_id = changed.tenant_id
        and notes.note_id = changed.note_id
    where notes.customer_id is not null
),

changed_keys as (
    select tenant_id, customer_id from new_customer_versions
    union
    select tenant_id, customer_id from note_customers
),

customer_versions as (
    select versions.*
    from {{ ref('base_shop__customers') }} as versions
    inner join changed_keys
        on versions.tenant_id = changed_keys.tenant_id
        and versions.customer_id = changed_keys.customer_id
),

changed_customers as (
    {{ latest_version('customer_versions', ['tenant_id', 'customer_id']) }}
),

notes as (
    select
        current_notes.tenant_id,
        current_notes.customer_id,
        count(*) as note_count,
        max(current_notes.created_at) as last_note_at,
        max(current_notes._ingested_at) as notes_ingested_at
    from {{ ref('stg_shop__customer_notes') }} as current_notes
    inner join changed_keys
        on current_notes.tenant_id = changed_keys.tenant_id
        and current_notes.customer_id = changed_keys.customer_id
    group by current_notes.tenant_id, current_notes.customer_id
),

final as (
    select
        -- ids
        customers.tenant_id,
        customers.customer_id,
        customers.email,
        customers.first_name,
        customers.last_name,
        customers.phone,
        customers.address_line1,
        customers.address_line2,
        customers.address_city,
        customers.address_region,
        customers.address_postal_code,
        customers.address_country,
        customers.tags,
        coalesce(notes.note_count, 0) as note_count,
        -- flags
        customers.accepts_email_marketing,
        customers.accepts_sms_marketing,
        -- timestamps
        customers.created_at,
        customers.updated_at,
        notes.last_note_at,
        -- lineage: the watermark of the next run
        greatest(customers._ingested_at, coalesce(notes.notes_ingested_at, customers._ingested_at))
            as _ingested_at,
        customers.is_deleted
    from changed_customers as customers
    left join notes
        on customers.tenant_id = notes.tenant_id
        and customers.customer_id = notes.customer_id
)

{{ emit_changes('final') }}
