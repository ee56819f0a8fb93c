"""Drive one URL with N concurrent clients for a while; report req/s and latency percentiles.

``wrk`` (C, event loop) is used when installed, since a Python client on the same two cores
takes CPU from the server it measures; the Python client is the fallback and is labelled so.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import threading
import time
import urllib.request

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def fetch(url: str, key: str) -> float:
    """GET ``url`` once and return the milliseconds it took; raise unless it answers 200."""
    started = time.perf_counter()
    request = urllib.request.Request(url, headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return (time.perf_counter() - started) * 1000


def run_load(url: str, key: str, clients: int, seconds: int) -> dict:
    """Load ``url`` and return requests_per_s, p50/p90/p99 in ms, errors and the client used."""
    if shutil.which("wrk"):
        return _wrk(url, key, clients, seconds)
    return _python(url, key, clients, seconds)


def _wrk(url: str, key: str, clients: int, seconds: int) -> dict:
    done = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "--timeout", "10s",
         "-H", f"X-API-Key: {key}", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    out = done.stdout
    percentiles = {
        int(p): float(value) * _UNITS[unit]
        for p, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    # Read errors are the sync workers closing each connection after answering, not failures.
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += int(socket.group(1)) + int(socket.group(4)) if socket else 0
    return {
        "client": "wrk",
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": percentiles[50],
        "p90_ms": percentiles[90],
        "p99_ms": percentiles[99],
        "errors": errors,
    }


def _python(url: str, key: str, clients: int, seconds: int) -> dict:
    latencies: list[float] = []
    errors = [0]
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()

    def client() -> None:
        mine = []
        while time.perf_counter() < deadline:
            try:
                mine.append(fetch(url, key))
            except Exception:  # noqa: BLE001 - every failure counts as an error
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "client": "python (slower than the server; install wrk for fair figures)",
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": cuts[49],
        "p90_ms": cuts[89],
        "p99_ms": cuts[98],
        "errors": errors[0],
    }
