"""Static checks of the dbt project: sources match the lake contracts, settings defaults match
the control plane, every model is documented and keyed, and models stay portable."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from warehouse.contracts import LAKE_ENTITIES
from warehouse.controlplane.tenant_settings import TenantSettings

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
MODELS = sorted((PROJECT / "models").rglob("*.sql"))
MARTS = [m for m in MODELS if "marts" in m.parts]
LANDING = {
    "tenant_id": "bigint", "date": "date", "_batch_id": "varchar",
    "_ingested_at": "timestamp with time zone", "_seq": "bigint", "_op": "varchar",
    "_source": "varchar",
}  # fmt: skip
# SQL only DuckDB (or a few engines) understands; it belongs in dispatched macros.
NON_PORTABLE = re.compile(
    r"::|\bread_parquet\b|\btimezone\(|\bjson_extract|\bunnest\(|\bexclude\b|\bqualify\b"
    r"|\blist_|\blen\(|//|\bstrftime\(|\bepoch\(",
    re.IGNORECASE,
)


def duckdb_type(arrow: pa.DataType) -> str:
    """Return the DuckDB spelling of an Arrow type, as the source files declare it."""
    if pa.types.is_string(arrow):
        return "varchar"
    if pa.types.is_int64(arrow):
        return "bigint"
    if pa.types.is_boolean(arrow):
        return "boolean"
    if pa.types.is_timestamp(arrow):
        return "timestamp with time zone"
    if pa.types.is_map(arrow):
        return f"map({duckdb_type(arrow.key_type)}, {duckdb_type(arrow.item_type)})"
    if pa.types.is_list(arrow):
        return duckdb_type(arrow.value_type) + "[]"
    members = ", ".join(f"{f.name} {duckdb_type(f.type)}" for f in arrow)
    return f"struct({members})"


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def properties(model: Path) -> dict:
    """Return the entry documenting a model in the .yml beside it."""
    candidates = [model.with_suffix(".yml"), *model.parent.glob("_*__models.yml")]
    for path in candidates:
        if path.exists():
            for entry in load(path).get("models", []):
                if entry["name"] == model.stem:
                    return entry
    raise AssertionError(f"{model.name} has no properties beside it")


def test_raw_sources_declare_the_lake_contracts_columns() -> None:
    sources = load(PROJECT / "models/staging/shop/_shop__sources.yml")["sources"][0]
    declared = {t["name"]: {c["name"]: c["data_type"] for c in t["columns"]}
                for t in sources["tables"]}  # fmt: skip
    # Every entity the marts are built from; newer entities join as models start reading them.
    assert set(declared) <= set(LAKE_ENTITIES)
    assert len(declared) == 10
    for name, columns in declared.items():
        expected = {f.name: duckdb_type(f.type) for f in LAKE_ENTITIES[name].schema} | LANDING
        assert columns == expected, name


def test_setting_defaults_match_the_control_plane() -> None:
    defaults = load(PROJECT / "dbt_project.yml")["vars"]["tenant_setting_defaults"]
    fields = TenantSettings.model_fields
    assert defaults == {name: fields[name].default for name in defaults}
    analytics = {n for n, f in fields.items() if isinstance(f.default, int | float)}
    assert set(defaults) == analytics


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.stem)
def test_every_model_is_documented_beside_it(model: Path) -> None:
    entry = properties(model)
    assert len(entry.get("description", "")) > 30


@pytest.mark.parametrize("model", MARTS, ids=lambda m: m.stem)
def test_every_mart_is_keyed_by_tenant_and_tested_on_its_key(model: Path) -> None:
    entry = properties(model)
    key = entry["config"]["meta"]["key"]
    assert key[0] == "tenant_id"
    tests = [t["unique_combination_of_columns"] for t in entry.get("data_tests", [])
             if "unique_combination_of_columns" in t]  # fmt: skip
    tested = [t["arguments"]["combination_of_columns"] for t in tests]
    assert tested == [key]
    tenant = next(c for c in entry["columns"] if c["name"] == "tenant_id")
    assert "not_null" in tenant["data_tests"]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.stem)
def test_models_name_no_paths_and_stay_portable(model: Path) -> None:
    # Only the SQL itself: comments and Jinja (macro calls, refs) are not what the engine runs.
    sql = re.sub(
        r"--[^\n]*|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "", model.read_text(), flags=re.DOTALL
    )
    assert "/" not in sql
    assert not NON_PORTABLE.search(sql), NON_PORTABLE.search(sql)
