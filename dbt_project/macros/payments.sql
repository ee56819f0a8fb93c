{#-
  Provider payments change state out of order: Stripe retries events for days in no set order,
  so a version landed later may describe an older state. The current state of a payment is the
  one warehouse/payments/states.py `supersedes` keeps when it applies events:

    1. a final state (succeeded, canceled) beats a non-final one, whatever the clocks say;
    2. then the later provider time of the state (`updated_at`);
    3. then the status further along (pending < failed < succeeded = canceled);
    4. remaining ties go to the version landed last (_ingested_at, _batch_id, _seq), as an
       incoming event wins a tie there.

  The rule is a maximum, so the state held in a fact combined with newly landed versions gives
  the same answer as all versions at once: incremental runs pass the held rows as `held`.
  Nothing lands payment deletes today; should one land, it removes the payment when it is the
  latest landed version, and versions landed after it start the payment afresh.
-#}

{#- The columns a payment state carries (base_shop__payments names, landing order included). -#}
{% macro payment_state_columns() -%}
    {{ return([
        'tenant_id', 'payment_id', 'order_id', 'provider', 'status', 'provider_status',
        'failure_code', 'currency', 'amount_minor', 'amount_captured_minor',
        'amount_refunded_minor', 'created_at', 'updated_at', '_batch_id', '_ingested_at', '_seq',
    ]) }}
{%- endmacro %}


{#- ORDER BY terms putting a payment's current state first (rules 1-4 above). -#}
{% macro payment_state_order() -%}
    case when status in ('succeeded', 'canceled') then 1 else 0 end desc,
    updated_at desc,
    case status when 'succeeded' then 2 when 'canceled' then 2 when 'failed' then 1 else 0 end desc,
    _ingested_at desc,
    _batch_id desc,
    _seq desc
{%- endmacro %}


{#-
  CTEs ending in `payment_states`: one row per payment among `versions` (base_shop__payments
  rows), its current state, or a tombstone (is_deleted) when its latest landed version is a
  delete. `held` (optional) holds the states already known for these payments.
-#}
{% macro current_payment_states(versions, held=none) -%}
{%- set columns = payment_state_columns() -%}
landed_versions as (
    select
        *,
        row_number() over (
            partition by tenant_id, payment_id
            order by _ingested_at desc, _batch_id desc, _seq desc
        ) as landing_rank
    from {{ versions }}
),

-- The landing rank of each payment's newest delete (NULL when none landed).
payment_deletes as (
    select
        tenant_id,
        payment_id,
        min(case when is_deleted then landing_rank end) as delete_rank
    from landed_versions
    group by tenant_id, payment_id
),

state_candidates as (
    select
        {%- for column in columns %}
        landed_versions.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from landed_versions
    inner join payment_deletes
        on landed_versions.tenant_id = payment_deletes.tenant_id
        and landed_versions.payment_id = payment_deletes.payment_id
    where not landed_versions.is_deleted
        and (
            payment_deletes.delete_rank is null
            or landed_versions.landing_rank < payment_deletes.delete_rank
        )
    {%- if held %}

    union all

    -- `exists`: the new versions' keys are the side to hash, not every held payment.
    select
        {%- for column in columns %}
        held.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ held }} as held
    where exists (
        select 1
        from payment_deletes
        where held.tenant_id = payment_deletes.tenant_id
            and held.payment_id = payment_deletes.payment_id
            and payment_deletes.delete_rank is null
    )
    {%- endif %}
),

ranked_states as (
    select
        *,
        row_number() over (
            partition by tenant_id, payment_id
            order by {{ payment_state_order() }}
        ) as state_rank
    from state_candidates
),

payment_states as (
    select
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        false as is_deleted
    from ranked_states
    where state_rank = 1

    union all

    select
        {%- for column in columns %}
        {{ column if column in ('tenant_id', 'payment_id') else 'null' }} as {{ column }},
        {%- endfor %}
        true as is_deleted
    from payment_deletes
    where delete_rank = 1
)
{%- endmacro %}
