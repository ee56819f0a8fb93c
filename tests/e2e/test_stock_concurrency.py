"""Concurrent stock updates against a real gunicorn server, for each conflict mode.

Many client threads send overlapping bulk updates. Per product (the unit of atomicity) the
accepted changes must form one serial history: every SKU's versions run 1..n with no gap or
repeat, each accepted change carries the version its mode implies, units touching several SKUs
are ordered the same way on each of them, and the final levels are what replaying the accepted
changes in that order gives. Refused changes leave no trace: not in the levels, not in the
versions, not in the lake. The landed stock events, replayed as the stock mart does, give the
same final levels. Runs on the control DB the suite uses (``--controldb``).
"""

from __future__ import annotations

import itertools
import os
import random
import threading
from collections import defaultdict

import pytest
import requests

from tests.e2e.test_crash_recovery import Server, free_port
from warehouse.lake import read_table

PRODUCTS = ("p0", "p1", "p2")
VARIANTS = ("", "v1", "v2")
CLIENTS = 6
REQUESTS_PER_CLIENT = 6
INITIAL = 5


@pytest.fixture
def server(settings, make, tmp_path):
    tenant = make.tenant("busy")
    key = make.api_key(tenant, ("read", "write"))
    port = free_port()
    env = {
        **os.environ,
        "SHOPLAKE_VAR_DIR": str(settings.var_dir),
        "SHOPLAKE_DATABASE_URL": settings.database_url,
        "SHOPLAKE_PORT": str(port),
        "SHOPLAKE_WORKERS": "4",
        "SHOPLAKE_ENV": "test",
        "SHOPLAKE_LOG_LEVEL": "WARNING",
        "SHOPLAKE_RATELIMIT_PRINCIPAL_DEFAULT": "100000/minute",
        "SHOPLAKE_RATELIMIT_TENANT_DEFAULT": "100000/minute",
    }
    process = Server(env, port, tmp_path / "server.log")
    process.start()
    try:
        yield Client(f"http://127.0.0.1:{port}", key), tenant
    finally:
        process.kill()  # every answer was committed; a graceful stop only costs time


class Client:
    def __init__(self, base: str, key: str) -> None:
        self.base, self.headers = base, {"X-API-Key": key}

    def put(self, mode: str, changes: list[dict]) -> requests.Response:
        body = {"mode": mode, "changes": changes}
        return requests.put(
            f"{self.base}/api/v1/stock/bulk_update/", json=body, headers=self.headers, timeout=60
        )

    def levels(self, *products: str) -> dict[tuple[str, str], tuple[int, int]]:
        params = [("product_id", p) for p in products]
        response = requests.get(
            f"{self.base}/api/v1/stock/levels/", params=params, headers=self.headers, timeout=60
        )
        assert response.status_code == 200, response.text
        return {
            (r["product_id"], r["variant_id"] or ""): (r["quantity"], r["version"])
            for r in response.json()["data"]
        }


def sku_change(product: str, variant: str, **values) -> dict:
    body = {"product_id": product, "reason": "adjustment", **values}
    return body | ({"variant_id": variant} if variant else {})


def run_clients(work) -> list[tuple[list[dict], dict]]:
    """Run ``work(rng, counter)`` on many threads; collect (sent changes, answer) pairs."""
    outcomes: list[tuple[list[dict], dict]] = []
    lock, counter, errors = threading.Lock(), itertools.count(1), []

    def client(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(REQUESTS_PER_CLIENT):
                sent, answer = work(rng, counter)
                with lock:
                    outcomes.append((sent, answer))
        except Exception as exc:  # surfaced below: a thread's assertion must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(seed,)) for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return outcomes


def answer_of(response: requests.Response) -> dict:
    assert response.status_code in (200, 207, 409, 422), response.text
    return response.json()


def accepted_units(outcomes, prefix: str) -> list[tuple[list[dict], dict]]:
    """Return (the product's sent changes, its result) for every applied product unit."""
    units = []
    for sent, answer in outcomes:
        for result in answer["results"]:
            mine = [c for c in sent if c["product_id"] == result["product_id"]]
            if result["status"] == "applied":
                units.append((mine, result))
            else:
                assert result["status"] == "refused" and result["errors"], result
    assert any(prefix in r["product_id"] for _s, r in units)
    return units


def unit_versions(result: dict) -> dict[str, int]:
    return {lv["variant_id"] or "": lv["version"] for lv in result["levels"]}


def assert_serial(units, first: int = 1) -> dict[tuple[str, str], list[tuple[int, dict]]]:
    """Check per-SKU versions run first..n with no gap or repeat, and that units touching
    several SKUs of a product are ordered alike on each (no interleaving); return histories."""
    history: dict[tuple[str, str], list[tuple[int, dict]]] = defaultdict(list)
    for sent, result in units:
        for change in sent:
            version = unit_versions(result)[change.get("variant_id", "")]
            history[(result["product_id"], change.get("variant_id", ""))].append((version, change))
    for sku, entries in history.items():
        assert sorted(v for v, _c in entries) == list(range(first, first + len(entries))), sku
    by_product = defaultdict(list)
    for _sent, result in units:
        by_product[result["product_id"]].append(unit_versions(result))
    for versions in by_product.values():
        for a, b in itertools.combinations(versions, 2):
            signs = {a[v] < b[v] for v in a.keys() & b.keys()}
            assert len(signs) <= 1, f"units interleaved: {a} vs {b}"
    return {sku: sorted(entries, key=lambda e: e[0]) for sku, entries in history.items()}


def assert_lake_matches(settings, tenant, final: dict, accepted: int, prefix: str) -> None:
    """The landed events are the accepted changes, each once, and replay to the final levels."""
    table = read_table(settings.lake_root, "stock_events", tenant.id)
    rows = [r for r in table.to_pylist() if r["product_id"].startswith(prefix)]
    assert len(rows) == len({r["id"] for r in rows}) == accepted
    replayed: dict[tuple[str, str], int] = defaultdict(int)
    for r in sorted(rows, key=lambda r: (r["occurred_at"], r["id"])):
        sku = (r["product_id"], r["variant_id"] or "")
        replayed[sku] = r["quantity"] if r["kind"] == "set" else replayed[sku] + r["quantity"]
        assert replayed[sku] >= 0
    assert dict(replayed) == {sku: quantity for sku, (quantity, _v) in final.items()}


def pick_skus(rng: random.Random, prefix: str) -> list[tuple[str, str]]:
    products = rng.sample(PRODUCTS, rng.randint(1, 2))
    return [(prefix + p, v) for p in products for v in rng.sample(VARIANTS, rng.randint(1, 3))]


def check_merge(client: Client, settings, tenant) -> None:
    prefix = "merge-"
    seed = [sku_change(prefix + p, v, delta=INITIAL) for p in PRODUCTS for v in VARIANTS]
    assert client.put("merge", seed).status_code == 200

    def work(rng, _counter):
        sent = [sku_change(p, v, delta=rng.randint(-6, 3)) for p, v in pick_skus(rng, prefix)]
        return sent, answer_of(client.put("merge", sent))

    outcomes = run_clients(work)
    units = accepted_units(outcomes, prefix)
    assert any(r["status"] == "refused" for _s, a in outcomes for r in a["results"])
    history = assert_serial(units, first=2)  # the seed is version 1
    final = client.levels(*(prefix + p for p in PRODUCTS))
    for sku, entries in history.items():
        running = INITIAL
        for _version, change in entries:
            running += change["delta"]
            assert running >= 0, sku  # the serial order never goes below zero
        assert final[sku] == (running, len(entries) + 1)
    assert_lake_matches(settings, tenant, final, len(seed) + sum(len(s) for s, _r in units), prefix)


def check_last_write_wins(client: Client, settings, tenant) -> None:
    prefix = "lww-"

    def work(rng, counter):
        sent = [sku_change(p, v, quantity=next(counter)) for p, v in pick_skus(rng, prefix)]
        return sent, answer_of(client.put("last_write_wins", sent))

    units = accepted_units(run_clients(work), prefix)
    history = assert_serial(units)
    final = client.levels(*(prefix + p for p in PRODUCTS))
    assert final == {sku: (e[-1][1]["quantity"], len(e)) for sku, e in history.items()}
    assert_lake_matches(settings, tenant, final, sum(len(s) for s, _r in units), prefix)


def check_reject(client: Client, settings, tenant) -> None:
    prefix = "reject-"

    def work(rng, counter):
        skus = pick_skus(rng, prefix)
        seen = client.levels(*{p for p, _v in skus})
        sent = [
            sku_change(p, v, quantity=next(counter), expected_version=seen.get((p, v), (0, 0))[1])
            for p, v in skus
        ]
        return sent, answer_of(client.put("reject", sent))

    outcomes = run_clients(work)
    units = accepted_units(outcomes, prefix)
    conflicts = [r for _s, a in outcomes for r in a["results"] if r["status"] == "refused"]
    assert conflicts and all("expected_version" in r["errors"][0]["field"] for r in conflicts)
    history = assert_serial(units)
    for entries in history.values():
        assert [c["expected_version"] for _v, c in entries] == list(range(len(entries)))
    final = client.levels(*(prefix + p for p in PRODUCTS))
    assert final == {sku: (e[-1][1]["quantity"], len(e)) for sku, e in history.items()}
    assert_lake_matches(settings, tenant, final, sum(len(s) for s, _r in units), prefix)


def test_concurrent_updates_equal_a_serial_history_in_every_mode(server, settings):
    client, tenant = server
    check_merge(client, settings, tenant)
    check_last_write_wins(client, settings, tenant)
    check_reject(client, settings, tenant)
