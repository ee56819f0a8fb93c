"""How far a search chunk reads: the reach taken from row-group statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from warehouse.search.window import RowGroup, reach_for, row_groups

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def hours(n: int) -> datetime:
    return T0 + timedelta(hours=n)


# Three time-ordered groups of 10 rows, and one of 5 spanning everything (late ids).
GROUPS = [
    RowGroup(hours(0), hours(9), 10),
    RowGroup(hours(10), hours(19), 10),
    RowGroup(hours(20), hours(29), 10),
    RowGroup(hours(0), hours(29), 5),
]


def test_the_reach_covers_enough_whole_groups_in_the_sort_direction():
    assert reach_for(GROUPS, 10, False, None) == hours(9)
    assert reach_for(GROUPS, 11, False, None) == hours(19)
    assert reach_for(GROUPS, 10, True, None) == hours(20)
    assert reach_for(GROUPS, 11, True, None) == hours(10)


def test_a_group_spanning_everything_does_not_stretch_the_reach():
    wide_first = [GROUPS[3], *GROUPS[:3]]
    assert reach_for(wide_first, 5, False, None) == hours(9)
    assert reach_for(wide_first, 5, True, None) == hours(20)


def test_groups_wholly_before_the_start_do_not_count():
    assert reach_for(GROUPS, 10, False, hours(12)) == hours(19)
    assert reach_for(GROUPS, 10, True, hours(15)) == hours(10)


def test_no_reach_when_every_group_left_would_be_read_anyway():
    assert reach_for(GROUPS, 36, False, None) is None
    assert reach_for(GROUPS, 26, False, None) is None  # all four groups needed
    assert reach_for(GROUPS, 1, False, hours(25)) is None  # only the last two remain...
    assert reach_for(GROUPS[:3], 1, False, hours(25)) is None  # ...or one
    assert reach_for([], 1, False, None) is None


def write(path, instants, row_group_size, zone=None):
    column = pa.array(instants, pa.timestamp("us", tz=zone))
    # A nested column first, with a leaf of the same name: only the top-level column counts.
    items = pa.array([{"sku": "a", "created_at": datetime(1999, 1, 1)}] * len(instants))
    table = pa.table({"items": items, "created_at": column})
    pq.write_table(table, path, row_group_size=row_group_size)


def test_row_groups_read_the_statistics_of_every_file(tmp_path):
    naive = [hours(n).replace(tzinfo=None) for n in range(5)]
    write(tmp_path / "a.parquet", naive, 2)  # a mart: UTC without a zone
    write(tmp_path / "b.parquet", [hours(7), hours(6)], 5, zone="UTC")
    groups = row_groups([str(tmp_path / "*.parquet")], "created_at")
    assert groups == [
        RowGroup(hours(0), hours(1), 2),
        RowGroup(hours(2), hours(3), 2),
        RowGroup(hours(4), hours(4), 1),
        RowGroup(hours(6), hours(7), 2),
    ]


def test_no_groups_without_the_column_or_with_nulls(tmp_path):
    write(tmp_path / "a.parquet", [hours(1), None], 5, zone="UTC")
    assert row_groups([str(tmp_path / "a.parquet")], "created_at") is None
    assert row_groups([str(tmp_path / "a.parquet")], "updated_at") is None
    assert row_groups([str(tmp_path / "missing.parquet")], "created_at") == []
