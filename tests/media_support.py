"""Shared helpers for the image tests: small images made in memory, products in the lake,
credentials, and waiting for background jobs. The S3 server lives in :mod:`tests.s3_server`.
"""

from __future__ import annotations

import io
import json
import struct
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from PIL import Image

from warehouse.config import Settings
from warehouse.contracts import CONTRACTS, validate_records
from warehouse.lake import batch_id_for, land_batch

TS = "2026-03-01T10:00:00+00:00"


def image_bytes(fmt: str = "PNG", size=(64, 48), color=(200, 30, 30), mode="RGB", **save) -> bytes:
    """Return a small image of one colour, encoded as ``fmt``."""
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def distinct_png(index: int, size=(48, 32)) -> bytes:
    """Return a PNG whose bytes differ for every ``index`` (distinct checksums)."""
    return image_bytes("PNG", size, (index % 256, (index * 7) % 256, (index * 13) % 256))


def png_claiming(width: int, height: int) -> bytes:
    """A real PNG stream whose header claims ``width`` x ``height`` (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    rows = zlib.compress(b"\0" * (1 + width // 8) * 8)  # a few rows of zeros; the rest "to come"
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def noisy_jpeg(size=(160, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def land_products(settings: Settings, tenant_id: int, ids: list[str], op: str = "upsert") -> None:
    """Land product records (or deletes of them) for a tenant, as the CRUD API would."""
    if op == "delete":
        tables = CONTRACTS["product"].delete_tables(ids)
    else:
        records = [
            json.dumps(
                {
                    "id": product_id,
                    "sku": f"SKU-{product_id}",
                    "name": f"Product {product_id}",
                    "price_minor": 1999,
                    "currency": "EUR",
                    "created_at": TS,
                    "updated_at": TS,
                }
            ).encode()
            for product_id in ids
        ]
        tables, errors = validate_records("product", records)
        assert not errors, errors
    batch = batch_id_for(tenant_id, f"test-{uuid.uuid4().hex}", 0)
    land_batch(settings.lake_root, tenant_id, batch, tables, source="crud", op=op)


def files(*items: tuple[str, bytes] | tuple[str, bytes, str]) -> dict:
    """Return a multipart form for the test client: each item is (name, bytes[, type])."""
    parts = []
    for item in items:
        name, data, *declared = item
        parts.append((io.BytesIO(data), name, declared[0] if declared else None))
    return {"file": parts}


@dataclass
class Shop:
    """A tenant with products in the lake and credentials for the image API."""

    tenant: Any
    headers: dict[str, str]
    settings: Settings

    def images_url(self, product_id: str = "p1") -> str:
        return f"/api/v1/products/{product_id}/images/"


def make_shop(make, settings: Settings, products=("p1", "p2"), slug: str | None = None) -> Shop:
    """Create a tenant with ``products`` landed and a read+write API key."""
    tenant = make.tenant(slug)
    land_products(settings, tenant.id, list(products))
    return Shop(tenant, make.key_headers(tenant, "read", "write"), settings)


def wait_for_job(client, headers: dict[str, str], url: str, timeout: float = 90) -> dict:
    """Poll a job until it has finished; return its final state."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(url, headers=headers).get_json()
        if job["status"] in ("succeeded", "failed"):
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} after {timeout}s"
        time.sleep(0.05)


def stop_job_runner(app) -> None:
    """Let the app's background jobs finish and stop its thread pool."""
    from serving.media import RUNNER_EXTENSION

    runner = app.extensions.get(RUNNER_EXTENSION)
    if runner is not None:
        runner.shutdown(wait=True)


def stored_keys(settings: Settings, tenant_id: int, prefix: str = "") -> list[str]:
    """Return every object key the tenant has in media storage (relative to the tenant)."""
    from warehouse.storage import open_storage

    return open_storage(settings).list(tenant_id, prefix)
