"""The new-data sensor's decision: build only for newer raw data, never twice at once, debounced."""

from datetime import UTC, datetime, timedelta

import pytest

from pipelines.lib.trigger import decide, read_cursor, write_cursor

T0 = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("raw", "published", "last_request", "active", "build", "why"),
    [
        (None, None, None, False, False, "empty"),  # nothing landed yet
        (T0, T0, None, False, False, "no raw data newer"),  # snapshot is up to date
        (T0 - MINUTE, T0, None, False, False, "no raw data newer"),  # snapshot even ahead
        (T0, None, None, False, True, "newer"),  # first build ever
        (T0 + MINUTE, T0, None, False, True, "newer"),  # new data, nothing in the way
        (T0 + MINUTE, T0, None, True, False, "already queued or running"),  # one at a time
        (T0 + MINUTE, T0, T0 + 9 * MINUTE, False, False, "debounced"),  # asked 1 min ago
        (T0 + MINUTE, T0, T0 + 5 * MINUTE, False, True, "newer"),  # asked 5 min ago: again
    ],
)
def test_decide(raw, published, last_request, active, build, why):
    decision = decide(
        raw,
        published,
        last_request,
        now=T0 + 10 * MINUTE,
        min_interval=5 * MINUTE,
        build_active=active,
    )
    assert decision.build is build
    assert why in decision.reason


def test_cursor_round_trip():
    assert read_cursor(None) is None
    assert read_cursor(write_cursor(T0)) == T0
