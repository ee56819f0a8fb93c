"""What the server benchmarks share: start `shoplake serve` on loopback, sample its memory.

Memory is read from ``/proc``: PSS summed over the server's process tree (shared pages split
between the processes that share them, which is what the tree really occupies; plain RSS would
count gunicorn's forked pages once per worker) and the largest single-process RSS.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

# Benchmarks measure the server, not the limiter: budgets far above any load they create.
UNLIMITED = {
    "SHOPLAKE_RATELIMIT_TENANT_DEFAULT": "10000000/minute",
    "SHOPLAKE_RATELIMIT_PRINCIPAL_DEFAULT": "10000000/minute",
    "SHOPLAKE_RATELIMIT_ANONYMOUS": "10000000/minute",
}


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(var_dir: Path, port: int, workers: int, **env: str) -> subprocess.Popen:
    """Start `shoplake serve` over ``var_dir`` and wait until /healthz answers."""
    environ = {
        **os.environ,
        **UNLIMITED,
        "SHOPLAKE_VAR_DIR": str(var_dir),
        "SHOPLAKE_PORT": str(port),
        "SHOPLAKE_WORKERS": str(workers),
        "SHOPLAKE_LOG_LEVEL": "WARNING",
        **env,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "shoplake", "serve"],
        env=environ,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"server exited with {server.returncode}") from None
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def stop_server(server: subprocess.Popen) -> None:
    """Stop the server and its workers."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class MemorySampler(threading.Thread):
    """Sample a process tree's memory every ``interval`` seconds; keep the peaks (KiB)."""

    def __init__(self, root_pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.interval = root_pid, interval
        self.peak_pss_kb = self.peak_process_rss_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            pids = process_tree(self.root_pid)
            self.peak_pss_kb = max(self.peak_pss_kb, sum(memory_kb(p, "Pss:") for p in pids))
            largest = max((memory_kb(p, "Rss:") for p in pids), default=0)
            self.peak_process_rss_kb = max(self.peak_process_rss_kb, largest)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def process_tree(pid: int) -> list[int]:
    """Return ``pid`` and all its descendants."""
    pids, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        pids += [int(c) for c in children]
        frontier += [int(c) for c in children]
    return pids


def memory_kb(pid: int, field: str) -> int:
    """Return one ``/proc/<pid>/smaps_rollup`` field in KiB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
