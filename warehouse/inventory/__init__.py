"""Inventory levels with versions: the control plane's one conflict-checked resource.

Public API::

    from warehouse.inventory import Change, Mode, bulk_update, read_levels, shape_errors

    changes = [Change(0, "p1", "", "restock", delta=5), Change(1, "p2", "v1", "sale", delta=-1)]
    errors = [e for c in changes for e in shape_errors(Mode.MERGE, c)]   # (field, reason)
    results = bulk_update(factory, lake_root, tenant_id, Mode.MERGE, changes, request_key,
                          redeliver_after=timedelta(minutes=5))
    # [ProductResult(product_id, status="applied"|"replayed"|"refused", levels, errors, conflict)]

* Modes (:mod:`.modes`): ``last_write_wins`` sets ``quantity``; ``merge`` adds ``delta`` and
  refuses a level below zero; ``reject`` sets ``quantity`` only if ``expected_version`` is the
  SKU's version (0 = never set). Each accepted change raises the SKU's version by one.
* Atomicity (:mod:`.bulk`, :mod:`.levels`): all changes of one product commit together under
  row locks (SQLite: the write lock from BEGIN IMMEDIATE); products are independent.
* Stock events (:mod:`.events`): every applied change lands as a ``stock_event`` record after
  the commit, idempotently, with redelivery of events a crash left behind.
* ``read_levels(session, tenant_id, product_ids)`` returns stored levels as :class:`SkuLevel`.
"""

from warehouse.inventory.bulk import ProductResult, bulk_update, group_by_product
from warehouse.inventory.events import event_id, redeliver
from warehouse.inventory.levels import SkuLevel, read_levels
from warehouse.inventory.modes import (
    MAX_QUANTITY,
    Change,
    Level,
    Mode,
    Refused,
    apply,
    shape_errors,
)

__all__ = [
    "MAX_QUANTITY",
    "Change",
    "Level",
    "Mode",
    "ProductResult",
    "Refused",
    "SkuLevel",
    "apply",
    "bulk_update",
    "event_id",
    "group_by_product",
    "read_levels",
    "redeliver",
    "shape_errors",
]
