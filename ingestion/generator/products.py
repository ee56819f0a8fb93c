"""`products` (with nested variants) and `price_events` record batches from the catalogue.

Products are written after the orders, so `stock_quantity` is the level the stock events end
at and `price_minor` is the last regular price the price events show.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.generator import vocab
from ingestion.generator.catalog import OPTION_ATTRIBUTES, Catalog
from ingestion.generator.columns import (
    bitmask_lists,
    ids,
    ints,
    join,
    lists,
    pick,
    position_in_group,
    timestamps,
    width_for,
)
from ingestion.generator.presets import TenantDef
from ingestion.generator.prices import PriceModel, charm
from ingestion.generator.seeding import hashed_unit

_CATEGORY_NAMES = tuple(c[0] for c in vocab.CATEGORIES)
_SUBCATEGORY_NAMES = tuple(name for c in vocab.CATEGORIES for name, _ in c[4])
DAY = 86400


def _variants(catalog: Catalog, prices: PriceModel, product: np.ndarray, levels: np.ndarray):
    with_variants = catalog.template[product] >= 0
    counts = np.where(with_variants, catalog.n_skus[product], 0)
    sku = np.repeat(catalog.first_sku[product], counts) + position_in_group(counts)
    factor = catalog.sku_price_factor(sku)
    price = charm(prices.current(catalog.sku_product[sku]) * factor, prices.digits)
    item = pa.StructArray.from_arrays(
        [
            catalog.variant_ids(sku),
            catalog.sku_codes(sku),
            catalog.sku_labels(sku),
            OPTION_ATTRIBUTES.take(pa.array(np.maximum(catalog.sku_option[sku], 0))),
            ints(price, mask=factor == 1.0),
            ints(levels[sku]),
        ],
        names=["id", "sku", "name", "attributes", "price_minor", "stock_quantity"],
    )
    return lists(counts, item)


def product_batch(
    catalog: Catalog, prices: PriceModel, tenant: TenantDef, span: tuple[int, int],
    sku_levels: np.ndarray, product_levels: np.ndarray, min_levels: np.ndarray, seed: int,
) -> pa.RecordBatch:  # fmt: skip
    """Return products ``span[0]..span[1]`` with variants, stock and current prices."""
    product = np.arange(*span)
    n = len(product)
    name = catalog.names(product)
    sentence = hashed_unit(seed, "product-text", product) * len(vocab.SENTENCES) ** 2
    first, second = np.divmod(sentence.astype(np.int64), len(vocab.SENTENCES))
    description = join(name, ". ", pick(vocab.SENTENCES, first), " ", pick(vocab.SENTENCES, second))
    cost = (prices.first(product) * catalog.cost_ratio[product]).astype(np.int64)
    age = (2 + hashed_unit(seed, "product-age", product) * 400) * DAY
    created = prices.start - age.astype(np.int64)
    updated = prices.sample_times(product, np.full(n, prices.samples - 1))
    tz = tenant.timezone
    columns = {
        "id": catalog.product_ids(product),
        "sku": catalog.product_skus(product),
        "name": name,
        "description": description,
        "category": pick(_CATEGORY_NAMES, catalog.category[product]),
        "subcategory": pick(_SUBCATEGORY_NAMES, catalog.subcategory[product]),
        "price_minor": ints(prices.current(product)),
        "cost_minor": ints(cost, mask=~catalog.has_cost[product]),
        "currency": pa.repeat(tenant.currency, n),
        "stock_quantity": ints(product_levels[product]),
        "min_stock_level": ints(min_levels[product]),
        "tags": bitmask_lists(catalog.tags[product], vocab.TAGS),
        "meta_title": join(name, " | ", tenant.name),
        "meta_description": pc.utf8_slice_codeunits(description, 0, 155),
        "is_active": pa.array(catalog.active[product]),
        "variants": _variants(catalog, prices, product, sku_levels),
        "created_at": timestamps(created, tz),
        "updated_at": timestamps(np.maximum(updated, created), tz),
    }
    return pa.record_batch(columns)


def price_batch(
    catalog: Catalog, prices: PriceModel, tenant: TenantDef, span: tuple[int, int]
) -> pa.RecordBatch:
    """Return every price observation of products ``span[0]..span[1]`` (time order per product)."""
    samples = prices.samples
    product = np.repeat(np.arange(*span), samples)
    k = np.tile(np.arange(samples), span[1] - span[0])
    n = len(product)
    columns = {
        "id": ids("prc-", product * samples + k + 1, width_for(catalog.count * samples, 10)),
        "product_id": catalog.product_ids(product),
        "variant_id": pa.nulls(n, pa.string()),
        "price_minor": ints(prices.observed(product, k)),
        "currency": pa.repeat(tenant.currency, n),
        "occurred_at": timestamps(prices.sample_times(product, k), tenant.timezone),
    }
    return pa.record_batch(columns)
