-- Adds up whole marts: full-refresh and scheduled builds only (macros/tests/scope.sql).
{{ config(tags=['whole_table']) }}

-- Per tenant, the funnel's sessions are exactly the distinct sessions of the events.
with event_sessions as (
    select
        tenant_id,
        count(distinct session_id) as sessions
    from {{ ref('stg_shop__events') }}
    group by tenant_id
),

funnel_sessions as (
    select
        tenant_id,
        {{ int_sum('session_count') }} as sessions
    from {{ ref('mart_event_funnel') }}
    group by tenant_id
)

select
    coalesce(event_sessions.tenant_id, funnel_sessions.tenant_id) as tenant_id,
    event_sessions.sessions as event_sessions,
    funnel_sessions.sessions as funnel_sessions
from event_sessions
full outer join funnel_sessions
    on event_sessions.tenant_id = funnel_sessions.tenant_id
where coalesce(event_sessions.sessions, 0) <> coalesce(funnel_sessions.sessions, 0)
