"""Sales metrics internals: sketch bounds hold the truth, nearest rank, rounding, validation."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from warehouse.metrics import MetricsInputError, make_request
from warehouse.metrics.distribution import nearest_rank
from warehouse.metrics.measures import minor_average
from warehouse.metrics.sketches import sketch_groups


def exact_percentile(values, percent):
    ordered = sorted(values)
    return ordered[math.ceil(percent * len(ordered) / 100) - 1]


def rows(key, values, customers):
    return [
        {"key": key, "customer_id": c, "total_minor": v}
        for v, c in zip(values, customers, strict=True)
    ]


@pytest.mark.parametrize("n", [1, 7, 150, 5_000, 60_000])
def test_estimates_hold_the_exact_figures_within_their_bounds(n):
    rng = random.Random(n)
    values = [rng.randint(100, 500_000) for _ in range(n)]
    customers = [f"cus-{rng.randint(1, max(1, n // 2))}" for _ in range(n)]
    ((key, found),) = sketch_groups(rows("all", values, customers))
    truth = len(set(customers))
    assert key == "all"
    assert found.unique_customers.lower_bound <= truth <= found.unique_customers.upper_bound
    for name, bounded in found.order_value.items():
        exact = exact_percentile(values, int(name[1:]))
        assert bounded.lower_bound <= exact <= bounded.upper_bound, (name, bounded, exact)


def test_small_groups_are_estimated_exactly():
    values, customers = [300, 100, 200, 400], ["a", "b", "a", "c"]
    ((_key, found),) = sketch_groups(rows("d", values, customers))
    assert found.unique_customers.value == 3
    assert {name: b.value for name, b in found.order_value.items()} == {
        "p50": 200, "p90": 400, "p99": 400
    }  # fmt: skip


def test_groups_split_on_key_and_guests_count_as_orders_not_customers():
    stream = rows("d1", [10, 20], ["a", None]) + rows("d2", [5], [None])
    found = dict(sketch_groups(stream))
    assert list(found) == ["d1", "d2"]
    assert found["d1"].unique_customers.value == 1 and found["d1"].order_value["p99"].value == 20
    assert found["d2"].unique_customers.value == 0 and found["d2"].order_value["p50"].value == 5


def test_no_rows_no_groups():
    assert list(sketch_groups([])) == []


@pytest.mark.parametrize(
    ("percent", "n", "rank"),
    [
        (50, 1, 1),
        (50, 2, 1),
        (50, 3, 2),
        (90, 10, 9),
        (99, 100, 99),
        (99, 101, 100),
        (90, 11, 10),
    ],  # fmt: skip
)
def test_nearest_rank_is_ceil_of_p_times_n(percent, n, rank):
    assert nearest_rank(percent, n) == rank


@pytest.mark.parametrize(
    ("total", "count", "average"),
    [(5, 2, 3), (7, 2, 4), (-5, 2, -3), (10, 4, 3), (9, 4, 2), (0, 3, 0)],
)
def test_averages_round_half_away_from_zero(total, count, average):
    assert minor_average(total, count) == average


def test_no_orders_no_average():
    assert minor_average(100, 0) is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"group_by": "week"}, "group_by"),
        ({"precision": "rough"}, "precision"),
        ({"start_date": date(2026, 2, 1), "end_date": date(2026, 1, 1)}, "end_date"),
        ({"group_by": "hour", "start_date": date(2026, 1, 1)}, "start_date"),
        (
            {"group_by": "hour", "start_date": date(2026, 1, 1), "end_date": date(2026, 4, 3)},
            "end_date",
        ),
    ],
)
def test_unanswerable_requests_name_their_field(kwargs, field):
    args = {"group_by": "day", "precision": "exact", **kwargs}
    with pytest.raises(MetricsInputError) as caught:
        make_request(args.pop("group_by"), args.pop("precision"), "UTC", "EUR", **args)
    assert caught.value.field == field


def test_hourly_ranges_up_to_the_limit_are_fine():
    request = make_request("hour", "exact", "UTC", "EUR", date(2026, 1, 1), date(2026, 4, 2))
    assert (request.end_date - request.start_date).days == 91


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "UTC", "Asia/Kathmandu"])
def test_utc_bounds_hold_every_instant_of_the_local_range(zone):
    # The UTC pre-filter may only drop orders outside the local range, in any zone.
    request = make_request("day", "exact", zone, "EUR", date(2026, 3, 28), date(2026, 3, 30))
    *_, since, until = request.params()
    tz = ZoneInfo(zone)
    first = datetime(2026, 3, 28, tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
    last = datetime(2026, 3, 30, 23, 59, 59, 999999, tzinfo=tz).astimezone(UTC)
    assert since <= first
    assert last.replace(tzinfo=None) < until


def test_utc_bounds_are_absent_without_dates():
    *_, since, until = make_request("day", "exact", "Europe/Berlin", "EUR").params()
    assert since is None and until is None
