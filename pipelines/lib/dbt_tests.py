"""dbt's test results as one ``dbt_tests`` asset check per model.

The translator (pipelines/lib/translator.py) declares one check per model instead of one per
test; this turns the build's ``run_results.json`` into those checks' results. A check passes when
every test of its model that ran passed; a failing ``warn`` test fails it with WARN severity, any
other failure (``fail``, ``error``) with ERROR. Tests dbt skipped (their model, or one upstream,
failed) did not run: a model whose tests all skipped gets no result, as its model gets no
materialization. The metadata names every test that ran and, for those that did not pass, dbt's
status, failing row count and message.

dagster-dbt would turn each test's result into an observation plus a log message (two
event-log writes per test); ``model_events`` converts only the other nodes' events.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliInvocation, DbtProject

from pipelines.lib.translator import DBT_TESTS, ShoplakeTranslator

PASSED = "pass"
WARNED = "warn"
SKIPPED = "skipped"


def model_events(invocation: DbtCliInvocation) -> Iterator[Any]:
    """Yield the Dagster events of a dbt run's models (outputs, materializations), not tests'."""
    for event in invocation.stream_raw_events():
        node = event.raw_event.get("data", {}).get("node_info", {})
        if str(node.get("unique_id", "")).startswith("test."):
            continue
        yield from event.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=invocation.context,
            target_path=invocation.target_path,
            project=invocation.project,
        )


def dbt_test_checks(
    run_results: Mapping[str, Any],
    manifest: Mapping[str, Any],
    translator: ShoplakeTranslator,
    project: DbtProject | None,
    selected: Collection[dg.AssetCheckKey],
) -> Iterator[dg.AssetCheckResult]:
    """Yield one result per selected ``dbt_tests`` check with at least one test in the run."""
    # The same test-to-model mapping the checks were declared from.
    check_of = {
        test_id: dg.AssetCheckKey(asset, DBT_TESTS)
        for asset, tests in translator.tests_by_asset(manifest, project).items()
        for test_id in tests
    }
    grouped: dict[dg.AssetCheckKey, list[Mapping[str, Any]]] = {}
    for result in run_results.get("results", []):
        key = check_of.get(result["unique_id"])
        if key is not None and key in selected and result["status"] != SKIPPED:
            grouped.setdefault(key, []).append(result)
    for key in sorted(grouped, key=lambda k: k.to_user_string()):
        yield _check_result(key, grouped[key], manifest)


def _check_result(
    key: dg.AssetCheckKey, results: Iterable[Mapping[str, Any]], manifest: Mapping[str, Any]
) -> dg.AssetCheckResult:
    tests = {manifest["nodes"][r["unique_id"]]["name"]: r for r in results}
    failed = {name: r for name, r in tests.items() if r["status"] != PASSED}
    only_warnings = all(r["status"] == WARNED for r in failed.values())
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN if only_warnings else dg.AssetCheckSeverity.ERROR,
        metadata={
            "tests_run": len(tests),
            "tests_failed": len(failed),
            "tests": dg.MetadataValue.json(sorted(tests)),
            "failures": dg.MetadataValue.json(
                {
                    name: {
                        "status": r["status"],
                        "failing_rows": r.get("failures"),
                        "message": r.get("message"),
                    }
                    for name, r in sorted(failed.items())
                }
            ),
        },
    )
