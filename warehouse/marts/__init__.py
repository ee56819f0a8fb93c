"""Reading one tenant's published marts: a snapshot-pinned query helper and a response cache.

Public API::

    from warehouse.marts import TenantMarts, ResponseCache

    marts = TenantMarts.current(var_dir, tenant_id)    # raises NoSnapshot before any publish
    rows = marts.rows("select * from {rfm} where segment = ?", ["Champions"],
                      rfm="mart_customer_rfm")
    cache.get_or_compute((tenant_id, marts.build_id, "rfm", query), compute)
"""

from warehouse.marts.answers import SharedAnswers
from warehouse.marts.cache import ResponseCache
from warehouse.marts.query import TenantMarts

__all__ = ["ResponseCache", "SharedAnswers", "TenantMarts"]
