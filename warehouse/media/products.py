"""Whether a product exists for a tenant: the lake has it and its latest version is no delete.

Products are business records, so the raw zone is the truth (fresh: the raw tail counts, not
only the compacted current state). Only the key and version columns of that one tenant's
partitions are read.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc

from warehouse.lake import read_table
from warehouse.media.errors import ProductNotFound

_COLUMNS = ["id", "_op", "_ingested_at", "_batch_id", "_seq"]
_ORDER = [("_ingested_at", "descending"), ("_batch_id", "descending"), ("_seq", "descending")]


def product_exists(lake_root: Path, tenant_id: int, product_id: str) -> bool:
    """Tell whether ``product_id`` is a live product of the tenant."""
    table = read_table(lake_root, "products", tenant_id, columns=_COLUMNS)
    if table.num_rows == 0:
        return False
    versions = table.filter(pc.equal(table["id"], product_id))
    if versions.num_rows == 0:
        return False
    latest = versions.sort_by(_ORDER).slice(0, 1)
    return latest["_op"][0].as_py() != "delete"


def require_product(lake_root: Path, tenant_id: int, product_id: str) -> None:
    """Raise ProductNotFound unless the product exists for the tenant."""
    if not product_exists(lake_root, tenant_id, product_id):
        raise ProductNotFound("product_id", f"no product {product_id!r} in this tenant")
