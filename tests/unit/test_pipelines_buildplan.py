"""What an incremental build re-reads and tests: pending batches from the ledger, the dbt plan."""

from datetime import UTC, datetime, timedelta

import msgspec
import pyarrow as pa
import pytest

from pipelines.lib.buildplan import dbt_plan
from pipelines.lib.buildstate import BUILDING, BUILT, BuildState
from pipelines.lib.rereads import (
    CLAIM_GRACE,
    NOTHING_PENDING,
    oldest_pending,
    reread_from,
    tail_start,
)
from warehouse.lake import batch_id_for, land_batch
from warehouse.lake.layout import ledger_file
from warehouse.lake.ledger import LedgerEntry

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def state(status: str = BUILT, pending: datetime | None = None) -> BuildState:
    return BuildState(status, "run-1", False, NOW - timedelta(minutes=5), NOW, pending)


def claim(lake, tenant_id: int, key: str, at: datetime, status: str = "pending") -> None:
    """Write a ledger entry as the lake writer's claim (or commit) would."""
    batch_id = batch_id_for(tenant_id, key, 0)
    entry = LedgerEntry(
        batch_id=batch_id, tenant_id=tenant_id, ingested_at=at, source="api", op="upsert",
        state=status,
    )  # fmt: skip
    path = ledger_file(lake, tenant_id, batch_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(msgspec.json.encode(entry))


def test_no_pending_batch_means_reading_from_each_watermark(tmp_path):
    land_batch(tmp_path, 1, batch_id_for(1, "k", 0), {"orders": pa.table({"id": ["o1"]})},
               source="api")  # fmt: skip
    assert oldest_pending(tmp_path, NOW, datetime.now(UTC)) is None
    assert oldest_pending(tmp_path / "empty", NOW, NOW) is None


def test_the_oldest_batch_still_landing_before_the_watermark_is_reread(tmp_path):
    now = datetime.now(UTC)
    claim(tmp_path, 1, "slow", now - timedelta(minutes=3))
    claim(tmp_path, 2, "slower", now - timedelta(minutes=4))
    claim(tmp_path, 2, "done", now - timedelta(minutes=9), status="committed")
    claim(tmp_path, 1, "after", now + timedelta(seconds=5))  # stamped after the watermark
    assert oldest_pending(tmp_path, now, now) == now - timedelta(minutes=4)


def test_a_batch_pending_for_over_an_hour_is_abandoned(tmp_path):
    now = datetime.now(UTC)
    claim(tmp_path, 1, "crashed", now - timedelta(hours=2))
    assert oldest_pending(tmp_path, now, now) is None


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        (None, ""),  # first build: the dbt project's time lookback
        (state(BUILDING), ""),  # the last build failed: same
        (state(), NOTHING_PENDING),
        (state(pending=NOW - timedelta(minutes=7)), (NOW - timedelta(minutes=7)).isoformat()),
    ],
)
def test_what_the_next_build_rereads(previous, expected):
    assert reread_from(previous) == expected


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (state(), NOW - timedelta(minutes=5) - CLAIM_GRACE),  # nothing pending: the watermark
        (state(pending=NOW - timedelta(minutes=7)), NOW - timedelta(minutes=7) - CLAIM_GRACE),
        (BuildState(BUILT, "run-1", False, None, NOW), None),  # no raw data: readers take all
    ],
)
def test_where_readers_start_the_raw_tail_of_a_build(built, expected):
    assert tail_start(built) == expected


def test_an_incremental_build_after_a_completed_one_tests_what_it_changed():
    plan = dbt_plan(False, False, {}, state(), NOW)
    assert plan.args == ["build", "--exclude", "tag:whole_table resource_type:unit_test"]
    assert plan.environ["SHOPLAKE_TESTS_SINCE"] == (NOW - timedelta(minutes=5)).isoformat()
    assert plan.environ["SHOPLAKE_REREAD_FROM"] == NOTHING_PENDING


@pytest.mark.parametrize(
    ("full_refresh", "all_tests", "previous"),
    [
        (True, False, state()),  # a full refresh
        (False, True, state()),  # the schedule's builds
        (False, False, state(BUILDING)),  # after a failed build
        (False, False, None),  # the first build
    ],
)
def test_other_builds_test_everything(full_refresh, all_tests, previous):
    plan = dbt_plan(full_refresh, all_tests, {}, previous, NOW)
    assert "--exclude" not in plan.args
    assert not plan.tests_scoped
