"""How dbt nodes appear in Dagster: keys, groups, and the raw inputs they depend on.

Every raw-zone source is one asset, ``raw_zone`` (the compaction asset keeps it), and the
control-plane tenants source is ``control_tenants`` (the export asset writes it). So the graph
reads: control_tenants, raw_zone -> staging -> intermediate -> marts -> marts_snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

RAW_ZONE = dg.AssetKey("raw_zone")
CONTROL_TENANTS = dg.AssetKey("control_tenants")
_SOURCE_KEYS = {"shop_raw": RAW_ZONE, "control": CONTROL_TENANTS}
_LAYERS = ("staging", "intermediate", "marts")


class ShoplakeTranslator(DagsterDbtTranslator):
    """Name models by their dbt name, group them by layer, and map sources to our assets."""

    def __init__(self) -> None:
        # Several raw sources share one asset key on purpose (see the module docstring).
        super().__init__(DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source = dbt_resource_props["source_name"]
            if source in _SOURCE_KEYS:
                return _SOURCE_KEYS[source]
            return dg.AssetKey([source, dbt_resource_props["name"]])
        return dg.AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return layer_of(dbt_resource_props)


def layer_of(dbt_resource_props: Mapping[str, Any]) -> str:
    """Return the layer folder a model lives in (``staging``, ``intermediate``, ``marts``)."""
    fqn = dbt_resource_props.get("fqn", [])
    return next((part for part in fqn if part in _LAYERS), "dbt")
