"""TenantMarts reads one tenant's partition of one pinned snapshot."""

from __future__ import annotations

import pytest

from warehouse.marts import TenantMarts
from warehouse.publish import NoSnapshot


def test_each_tenant_sees_only_its_own_rows(served):
    for tenant_id in served.tenant_ids.values():
        marts = TenantMarts.current(served.var_dir, tenant_id)
        rows = marts.rows(
            "select tenant_id, count(*) as n from {orders} group by tenant_id",
            orders="fct_orders",
        )
        assert rows == [{"tenant_id": tenant_id, "n": 300}]


def test_request_values_travel_as_parameters(served):
    tenant_id = next(iter(served.tenant_ids.values()))
    marts = TenantMarts.current(served.var_dir, tenant_id)
    hostile = "x' or 1=1 --"
    rows = marts.rows("select count(*) as n from {o} where order_id = ?", [hostile], o="fct_orders")
    assert rows == [{"n": 0}]


def test_streaming_yields_every_row_in_batches(served):
    tenant_id = next(iter(served.tenant_ids.values()))
    marts = TenantMarts.current(served.var_dir, tenant_id)
    batches = list(marts.stream("select order_id from {o}", batch_rows=64, o="fct_orders"))
    assert [len(b) for b in batches[:-1]] == [64] * (len(batches) - 1)
    assert sum(len(b) for b in batches) == 300


def test_no_snapshot_before_the_first_publish(tmp_path):
    with pytest.raises(NoSnapshot):
        TenantMarts.current(tmp_path, 1)
