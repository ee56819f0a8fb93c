"""How dbt nodes appear in Dagster: keys, groups, and the raw inputs they depend on.

Every raw-zone source is one asset, ``raw_zone`` (the compaction asset keeps it), and the
control-plane tenants source is ``control_tenants`` (the export asset writes it). So the graph
reads: control_tenants, raw_zone -> staging -> intermediate -> marts -> marts_snapshot.

A model's dbt tests are one asset check, ``dbt_tests``, rather than one check per test: each
check costs a build three event-log writes and a step output, and ~170 of them were ~4 s of
every build (BENCHMARKS.md). The check's result lists each test that ran (pipelines/lib/
dbt_tests.py), so the UI still says which test failed and how many rows it found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject
from dagster_dbt.asset_utils import get_asset_check_key_for_test

RAW_ZONE = dg.AssetKey("raw_zone")
CONTROL_TENANTS = dg.AssetKey("control_tenants")
_SOURCE_KEYS = {"shop_raw": RAW_ZONE, "control": CONTROL_TENANTS}
_LAYERS = ("staging", "intermediate", "marts")
DBT_TESTS = "dbt_tests"


class ShoplakeTranslator(DagsterDbtTranslator):
    """Name models by their dbt name, group them by layer, and map sources to our assets."""

    def __init__(self) -> None:
        # Several raw sources share one asset key on purpose (see the module docstring).
        super().__init__(DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))
        self._tests: tuple[Mapping[str, Any], dict[dg.AssetKey, list[str]]] | None = None

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source = dbt_resource_props["source_name"]
            if source in _SOURCE_KEYS:
                return _SOURCE_KEYS[source]
            return dg.AssetKey([source, dbt_resource_props["name"]])
        return dg.AssetKey(dbt_resource_props["name"])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return layer_of(dbt_resource_props)

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        # dagster-dbt asks once per test next to the model; every test of a model answers the
        # same spec, which it keeps once.
        tests = self.tests_by_asset(manifest, project).get(asset_spec.key, [])
        if unique_id not in tests:
            return None  # a test attached to another model (relationships name two)
        nodes = [manifest["nodes"][test_id] for test_id in tests]
        deps = {
            self.get_asset_spec(manifest, parent, project).key
            for test_id in tests
            for parent in manifest["parent_map"].get(test_id, [])
        }
        deps.discard(asset_spec.key)
        return dg.AssetCheckSpec(
            name=DBT_TESTS,
            asset=asset_spec.key,
            description=f"The model's {len(tests)} dbt tests; each one's result in the metadata.",
            additional_deps=deps,
            blocking=any(_severity(node) == "error" for node in nodes),
        )

    def tests_by_asset(
        self, manifest: Mapping[str, Any], project: DbtProject | None
    ) -> dict[dg.AssetKey, list[str]]:
        """Return each asset's dbt tests (unique ids), worked out once per manifest.

        A test belongs to the model dagster-dbt attaches it to (a relationships test names
        two); tests of no model (sources, singular tests of several) belong nowhere.
        """
        if self._tests is None or self._tests[0] is not manifest:
            tests: dict[dg.AssetKey, list[str]] = {}
            for test_id in sorted(manifest["nodes"]):
                key = get_asset_check_key_for_test(manifest, self, test_id, project)
                if key is not None:
                    tests.setdefault(key.asset_key, []).append(test_id)
            self._tests = (manifest, tests)
        return self._tests[1]


def _severity(node: Mapping[str, Any]) -> str:
    return str(node.get("config", {}).get("severity") or "error").lower()


def layer_of(dbt_resource_props: Mapping[str, Any]) -> str:
    """Return the layer folder a model lives in (``staging``, ``intermediate``, ``marts``)."""
    fqn = dbt_resource_props.get("fqn", [])
    return next((part for part in fqn if part in _LAYERS), "dbt")
