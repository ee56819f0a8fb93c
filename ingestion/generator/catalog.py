"""A tenant's catalogue as compact arrays: categories, popularity, variants (SKUs), base prices.

Only integers and floats per product are kept; names, ids and SKUs are rebuilt as strings for
just the rows a chunk needs. Popularity is Zipf over a random rank, so a few products sell most.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.generator import vocab
from ingestion.generator.columns import ids, join, pick, width_for
from ingestion.generator.presets import TenantDef
from ingestion.generator.seeding import rng

ZIPF_EXPONENT = 1.07
_SUBCATS = [(c, name, nouns) for c, cat in enumerate(vocab.CATEGORIES) for name, nouns in cat[4]]
_NOUNS = [noun for _, _, nouns in _SUBCATS for noun in nouns]
_NOUN_START = np.cumsum([0] + [len(n) for _, _, n in _SUBCATS])
# Flattened variant options: one row per (template, position).
_OPTION_START = np.cumsum([0] + [len(values) for _, values in vocab.VARIANT_TEMPLATES])
_OPTIONS = [(names, vals) for names, values in vocab.VARIANT_TEMPLATES for vals in values]
_PRICE_FACTOR = {"XL": 1.1, "500g": 1.8, "1kg": 3.2, "Gold": 1.4}


def _option_tables() -> tuple[pa.Array, pa.Array, pa.Array, np.ndarray]:
    labels = pa.array([" / ".join(vals) for _, vals in _OPTIONS])
    codes = pa.array(
        ["-".join(v.upper().replace(" ", "")[:3] for v in vals) for _, vals in _OPTIONS]
    )
    attributes = pa.array(
        [list(zip(names, vals, strict=True)) for names, vals in _OPTIONS],
        type=pa.map_(pa.string(), pa.string()),
    )
    factors = np.array([np.prod([_PRICE_FACTOR.get(v, 1.0) for v in vals]) for _, vals in _OPTIONS])
    return labels, codes, attributes, factors


OPTION_LABELS, OPTION_CODES, OPTION_ATTRIBUTES, OPTION_PRICE_FACTOR = _option_tables()


class Catalog:
    """Products and their SKUs for one tenant (SKU = a variant, or the product itself)."""

    def __init__(self, tenant: TenantDef, count: int, seed: int, index: int):
        g = rng(seed, index, "catalog")
        self.count, self.id_width = count, width_for(count, 7)
        cat_weights = g.dirichlet(np.full(len(vocab.CATEGORIES), 1.5))
        sub_of_cat = [
            np.flatnonzero([c == k for c, _, _ in _SUBCATS]) for k in range(len(cat_weights))
        ]
        self.category = g.choice(len(cat_weights), count, p=cat_weights)
        self.subcategory = self._spread_subcategories(g, sub_of_cat)
        n_nouns = np.diff(_NOUN_START)[self.subcategory]
        self.noun = _NOUN_START[self.subcategory] + (g.random(count) * n_nouns).astype(np.int64)
        self.adjective = g.integers(0, len(vocab.ADJECTIVES), count)
        self.material = np.where(
            g.random(count) < 0.5, g.integers(0, len(vocab.MATERIALS), count), -1
        )
        self._prices(g, tenant)
        rank = g.permutation(count) + 1
        self.active = g.random(count) < 0.95
        # Delisted products barely sell any more (their old orders stay).
        self.weight = rank.astype(np.float64) ** -ZIPF_EXPONENT * np.where(self.active, 1, 0.02)
        self.cdf = np.cumsum(self.weight) / self.weight.sum()
        self._variants(g)

    def _spread_subcategories(self, g: np.random.Generator, sub_of_cat: list) -> np.ndarray:
        sizes = np.array([len(s) for s in sub_of_cat])[self.category]
        starts = np.array([s[0] for s in sub_of_cat])[self.category]
        return starts + (g.random(self.count) * sizes).astype(np.int64)

    def _prices(self, g: np.random.Generator, tenant: TenantDef) -> None:
        median = np.array([c[1] for c in vocab.CATEGORIES])[self.category]
        usd = np.maximum(median * g.lognormal(0.0, 0.55, self.count), 8.0)
        self.base_minor = usd * tenant.usd_rate * 10**tenant.minor_digits
        self.cost_ratio = g.uniform(0.3, 0.65, self.count)
        self.has_cost = g.random(self.count) < 0.85
        self.tags = g.integers(0, 1 << len(vocab.TAGS), self.count) & g.integers(0, 256, self.count)

    def _variants(self, g: np.random.Generator) -> None:
        prob = np.array([c[2] for c in vocab.CATEGORIES])[self.category]
        allowed = [c[3] for c in vocab.CATEGORIES]
        n_allowed = np.array([len(a) for a in allowed])
        table = np.array([a + (a[0],) * (n_allowed.max() - len(a)) for a in allowed])
        choice = g.integers(0, 1 << 16, self.count) % n_allowed[self.category]
        template = table[self.category, choice]
        self.template = np.where(g.random(self.count) < prob, template, -1)
        sizes = np.diff(_OPTION_START)
        self.n_skus = np.where(self.template >= 0, sizes[np.maximum(self.template, 0)], 1)
        self.first_sku = np.concatenate([[0], np.cumsum(self.n_skus)[:-1]])
        self.sku_count = int(self.n_skus.sum())
        self.sku_width = width_for(self.sku_count, 8)
        self.sku_product = np.repeat(np.arange(self.count), self.n_skus)
        position = np.arange(self.sku_count) - self.first_sku[self.sku_product]
        tmpl = self.template[self.sku_product]
        self.sku_option = np.where(tmpl >= 0, _OPTION_START[np.maximum(tmpl, 0)] + position, -1)

    def sample(self, g: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw n (product, sku) pairs: products by Zipf popularity, variants uniformly."""
        product = np.minimum(np.searchsorted(self.cdf, g.random(n), side="right"), self.count - 1)
        sku = self.first_sku[product] + (g.random(n) * self.n_skus[product]).astype(np.int64)
        return product, sku

    def product_ids(self, product: np.ndarray) -> pa.Array:
        """Return the merchant ids of products (null for a negative index)."""
        return ids("prod-", np.maximum(product, 0) + 1, self.id_width, null=product < 0)

    def product_skus(self, product: np.ndarray) -> pa.Array:
        """Return the SKU codes of products (category prefix + number)."""
        prefix = pick(tuple(c[0][:3].upper() for c in vocab.CATEGORIES), self.category[product])
        return join(prefix, ids("-", product + 1, self.id_width - 1))

    def names(self, product: np.ndarray) -> pa.Array:
        """Return product names ("Nordic Linen Shirt")."""
        material = self.material[product]
        parts = [
            pick(vocab.ADJECTIVES, self.adjective[product]),
            pc.if_else(
                pa.array(material >= 0),
                join(pa.scalar(" "), pick(vocab.MATERIALS, np.maximum(material, 0))),
                pa.scalar(""),
            ),
            pick(tuple(_NOUNS), self.noun[product]),
        ]
        return join(parts[0], parts[1], pa.scalar(" "), parts[2])

    def variant_ids(self, sku: np.ndarray) -> pa.Array:
        """Return variant ids (null where the SKU is the product itself)."""
        return ids("var-", sku + 1, self.sku_width, null=self.sku_option[sku] < 0)

    def sku_codes(self, sku: np.ndarray) -> pa.Array:
        """Return SKU codes, the product's plus the variant's option code."""
        option = self.sku_option[sku]
        base = self.product_skus(self.sku_product[sku])
        suffix = join(pa.scalar("-"), OPTION_CODES.take(pa.array(np.maximum(option, 0))))
        return pc.if_else(pa.array(option >= 0), join(base, suffix), base)

    def sku_labels(self, sku: np.ndarray) -> pa.Array:
        """Return variant labels ("M / Black"), null for plain products."""
        option = self.sku_option[sku]
        return pc.if_else(
            pa.array(option >= 0), OPTION_LABELS.take(pa.array(np.maximum(option, 0))), None
        )

    def sku_names(self, sku: np.ndarray) -> pa.Array:
        """Return line-item names: the product name, plus the variant label where there is one."""
        name = self.names(self.sku_product[sku])
        label = self.sku_labels(sku)
        return pc.coalesce(join(name, pa.scalar(" - "), label), name)

    def sku_price_factor(self, sku: np.ndarray) -> np.ndarray:
        """Return each SKU's price as a multiple of its product's price (1.0 for most)."""
        option = self.sku_option[sku]
        return np.where(option >= 0, OPTION_PRICE_FACTOR[np.maximum(option, 0)], 1.0)
