"""Business records as entities: read the current state, write through the one write path.

Reads (invariant 7) combine one tenant's published snapshot partition - or, before a publish,
the lake's compacted current state - with the raw rows landed since, latest version per key,
deletes dropped, so a write is visible on the very next read. Only that tenant's files are
named, always as bound parameters. Writes validate against the record contracts and land
batches in the raw zone; nothing else stores business records.

Public API::

    from warehouse.entities import Store, Write, service, listing, actions, orders
    from warehouse.entities.resources import PRODUCTS, CUSTOMERS, ORDERS

    store = Store(lake_root, var_dir, tenant_id)
    service.get(store, PRODUCTS, "p1")                     # API record, or EntityNotFound
    listing.list_records(store, PRODUCTS, ListRequest(filters={"category": "Shoes"}))
    write = Write(store, session_factory, scope="products:create", key=idempotency_key)
    service.create(write, PRODUCTS, body)                  # also replace / update / delete
    service.bulk(write, PRODUCTS, creates, updates, deletes)   # per-item Change results
    actions.update_status(write, "o1", "paid")
    actions.create_refund(write, "o1", RefundRequest(amount_minor=500))
    actions.add_note(write, "c1", "Called about delivery", author="user:3")
    orders.status_history(store, "o1")

Errors are :class:`warehouse.entities.errors.EntityError` subclasses (404, 409, 422) carrying
every (field, reason).
"""

from warehouse.entities.sources import Store
from warehouse.entities.writes import Write

__all__ = ["Store", "Write"]
