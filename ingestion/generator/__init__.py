"""Deterministic synthetic shop data (`shoplake generate`): presets tiny, small and large.

Public surface: :func:`generate` (the CLI's one call), :func:`tenant_definitions` (tenants to
create in the control DB before pushing), :data:`PRESETS` and :data:`ENTITIES`.
"""

from __future__ import annotations

from ingestion.generator.presets import PRESETS, TenantDef, resolve, tenant_definitions
from ingestion.generator.runner import FORMATS, GenerateSummary, generate

ENTITIES = (
    "products", "customers", "orders", "events", "stock_events", "price_events", "refunds",
    "customer_notes",
)  # fmt: skip

__all__ = [
    "ENTITIES",
    "FORMATS",
    "PRESETS",
    "GenerateSummary",
    "TenantDef",
    "generate",
    "resolve",
    "tenant_definitions",
]
