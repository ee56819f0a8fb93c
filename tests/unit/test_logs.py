"""Structured logs: one JSON object per line carrying the bound context."""

import io
import json
import logging

from warehouse import logs


def test_json_line_carries_bound_context_and_extras():
    stream = io.StringIO()
    logs.configure("INFO", stream)
    with logs.bound(request_id="r1", tenant_id=7):
        logging.getLogger("t").info("hello", extra={"rows": 3})
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["msg"] == "hello"
    assert entry["request_id"] == "r1" and entry["tenant_id"] == 7 and entry["rows"] == 3
    assert entry["level"] == "info" and entry["ts"].endswith("+00:00")


def test_context_is_dropped_after_the_block():
    stream = io.StringIO()
    logs.configure("INFO", stream)
    with logs.bound(request_id="r2"):
        pass
    logging.getLogger("t").info("after")
    assert "request_id" not in json.loads(stream.getvalue().splitlines()[-1])
