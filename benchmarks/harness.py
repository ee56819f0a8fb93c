"""What the server benchmarks share: start `shoplake serve` on loopback, sample its memory.

Memory is read from ``/proc``: tree RSS (every physical page mapped by the server's processes
counted once, from ``pagemap``; needs root and ~25 ms of CPU a sample), PSS summed over the tree
(shared pages split between the processes that share them; it reads low when unrelated processes
share the same library pages) and the largest single-process RSS. Plain RSS summed would count
gunicorn's forked pages once per worker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np

# Benchmarks measure the server, not the limiter: budgets far above any load they create.
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

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


def start_shoplake(
    command: list[str], var_dir: Path, port: int, workers: int, **env: str
) -> subprocess.Popen:
    """Start a `shoplake` command over ``var_dir`` in its own process group (no waiting)."""
    environ = {
        **os.environ,
        **UNLIMITED,
        "SHOPLAKE_VAR_DIR": str(var_dir),
        "SHOPLAKE_PORT": str(port),
        "SHOPLAKE_WORKERS": str(workers),
        "SHOPLAKE_LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "shoplake", *command],
        env=environ,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def start_server(var_dir: Path, port: int, workers: int, **env: str) -> subprocess.Popen:
    """Start `shoplake serve` over ``var_dir`` and wait until /healthz answers."""
    server = start_shoplake(["serve"], var_dir, port, workers, **env)
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
    """Stop the server and its workers (it leads its own process group)."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


class MemorySampler(threading.Thread):
    """Sample a process tree's memory every ``interval`` seconds; keep the peaks (KiB).

    Tree RSS is costly (it reads every page's frame number), so it is taken only every
    ``tree_every``-th sample, and never when ``tree_every`` is 0.
    """

    def __init__(self, root_pid: int, interval: float = 0.05, tree_every: int = 0) -> None:
        super().__init__(daemon=True)
        self.root_pid, self.interval, self.tree_every = root_pid, interval, tree_every
        self.peak_pss_kb = self.peak_process_rss_kb = 0
        self.peak_tree_rss_kb: int | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        samples = 0
        while not self._stop_event.wait(self.interval):
            tree = self.tree_every > 0 and samples % self.tree_every == 0
            now = memory(self.root_pid, tree=tree)
            self.peak_pss_kb = max(self.peak_pss_kb, now["pss"])
            self.peak_process_rss_kb = max(self.peak_process_rss_kb, now["largest_process_rss"])
            if now["tree_rss"] is not None:
                self.peak_tree_rss_kb = max(self.peak_tree_rss_kb or 0, now["tree_rss"])
            samples += 1

    def peaks(self) -> dict[str, int | None]:
        """Return the peaks under the names :func:`memory` uses."""
        return {
            "tree_rss": self.peak_tree_rss_kb,
            "pss": self.peak_pss_kb,
            "largest_process_rss": self.peak_process_rss_kb,
        }

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def memory(root_pid: int, tree: bool = True) -> dict[str, int | None]:
    """Return the tree's RSS (pages counted once), summed PSS and largest process RSS in KiB."""
    pids = process_tree(root_pid)
    return {
        "tree_rss": tree_rss_kb(pids) if tree else None,
        "pss": sum(memory_kb(p, "Pss:") for p in pids),
        "largest_process_rss": max((memory_kb(p, "Rss:") for p in pids), default=0),
    }


def tree_rss_kb(pids: list[int]) -> int | None:
    """Return the KiB of distinct physical pages the processes map (None unless root)."""
    frames = [_frames(pid) for pid in pids]
    frames = np.concatenate([f for f in frames if f is not None] or [np.zeros(0, np.uint64)])
    if frames.size and not frames.any():
        return None  # not root: the kernel hides frame numbers
    return len(np.unique(frames)) * PAGE_KB


def _frames(pid: int) -> np.ndarray | None:
    """Return the physical frame numbers of a process's resident pages."""
    present, frame_bits, page = np.uint64(1 << 63), np.uint64((1 << 55) - 1), PAGE_KB * 1024
    found = []
    try:
        maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
        with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
            for line in maps:
                low, high = (int(x, 16) for x in line.split()[0].split("-"))
                if line.endswith("[vsyscall]"):
                    continue
                pagemap.seek(low // page * 8)
                entries = np.frombuffer(pagemap.read((high - low) // page * 8), np.uint64)
                found.append(entries[(entries & present) != 0] & frame_bits)
    except OSError:
        return None  # the process ended while being read
    return np.concatenate(found) if found else None


def cpu_seconds(pids: list[int]) -> float:
    """Return the user + system CPU seconds the processes have used so far."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


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
