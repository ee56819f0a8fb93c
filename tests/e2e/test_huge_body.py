"""A 2 GB body against the real server: refused with 413 once past the limit, in bounded memory,
with the batches that landed before the limit intact."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.test_crash_recovery import Server, free_port, setup_instance
from warehouse.lake import read_table

TS = "2026-03-01T10:00:00Z"


def process_tree_pss_kb(root: int) -> int:
    pids, frontier = [root], [root]
    while frontier:
        try:
            children = Path(f"/proc/{frontier.pop()}/task/{root}/children").read_text().split()
        except OSError:
            children = []
        for pid in children:
            pids.append(int(pid))
            frontier.append(int(pid))
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def body(records: int, total_bytes: int):
    """Valid customers first, then blank padding lines up to ``total_bytes``."""
    sent = 0
    for start in range(0, records, 10_000):
        block = b"".join(
            json.dumps(
                {"id": f"c{i}", "email": f"c{i}@x.example", "created_at": TS, "updated_at": TS}
            ).encode()
            + b"\n"
            for i in range(start, start + 10_000)
        )
        sent += len(block)
        yield block
    filler = (b" " * 65_535 + b"\n") * 16
    while sent < total_bytes:
        sent += len(filler)
        yield filler


def post_chunked(port: int, key: str, blocks) -> tuple[int, dict]:
    """Stream a chunked body from a thread while reading the answer, which may come early."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=900)
    head = (
        f"POST /api/v1/ingest/customer/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {key}\r\n"
        "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
    )

    def send() -> None:
        try:
            sock.sendall(head.encode())
            for block in blocks:
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
            sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: expected once it refuses the body

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    response = http.client.HTTPResponse(sock)
    response.begin()
    reply = json.loads(response.read())
    sock.close()
    return response.status, reply


@pytest.mark.stress
def test_two_gigabyte_body_is_refused_in_bounded_memory(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    tenant_id, key = setup_instance(var_dir)
    port = free_port()
    env = {
        **os.environ,
        "SHOPLAKE_VAR_DIR": str(var_dir),
        "SHOPLAKE_PORT": str(port),
        "SHOPLAKE_ENV": "test",
        "SHOPLAKE_LOG_LEVEL": "WARNING",
    }
    server = Server(env, port, tmp_path / "server.log")
    server.start()
    peak = [0]
    running = [True]

    def sample() -> None:
        while running[0]:
            peak[0] = max(peak[0], process_tree_pss_kb(server.process.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        status, reply = post_chunked(port, key, body(200_000, 2 * 1024**3))
    finally:
        running[0] = False
        server.stop()
    assert status == 413, reply
    # What landed before the limit is reported and kept; the unfinished chunk was never acked.
    table = read_table(var_dir / "lake", "customers", tenant_id, columns=["id"])
    assert reply["rows_inserted"] == table.num_rows > 100_000
    assert len(reply["batch_ids"]) == len(set(reply["batch_ids"])) >= 3
    assert peak[0] < 300 * 1024, f"server peak PSS {peak[0] // 1024} MB"
