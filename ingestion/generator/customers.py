"""Customers: a lifecycle plan (who buys how often, until when) and their records and notes.

Every customer gets a segment that shapes their orders: one-time buyers, occasional and loyal
repeat buyers, churned customers whose last order is long ago, and browsers who never buy.
Sign-ups follow the shop's growth, so recent sign-ups are the "new" customers. A customer's
share of repeat orders is their segment's rate times the length of their active window, so
tenure and frequency go together. That spread is what gives RFM quintiles and cohorts
something to separate.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.generator import vocab
from ingestion.generator.columns import bitmask_lists, ids, join, pick, timestamps, width_for
from ingestion.generator.presets import TenantDef
from ingestion.generator.seeding import rng
from ingestion.generator.timeline import Timeline

SEGMENTS = ("browser", "one_time", "occasional", "loyal", "churned")
_SEGMENT_P = np.array([0.05, 0.42, 0.31, 0.09, 0.13])
# Repeat orders per active day, relative (one-time buyers and browsers: none).
_REPEAT_RATE = np.array([0.0, 0.0, 1 / 120, 1 / 20, 1 / 40])
BROWSER, ONE_TIME, OCCASIONAL, LOYAL, CHURNED = range(5)
_TAGS = ("vip", "wholesale", "newsletter")


class CustomerPlan:
    """Segments, sign-up instants and active windows of one tenant's customers."""

    def __init__(self, count: int, timeline: Timeline, seed: int, index: int):
        g = rng(seed, index, "customers")
        self.count, self.timeline = count, timeline
        self.id_width = width_for(count, 7)
        last = timeline.days - 1
        self.segment = g.choice(len(SEGMENTS), count, p=_SEGMENT_P)
        hi = np.where(self.segment == CHURNED, int(last * 0.55), last)
        self.signup_day = timeline.sample_days(g, np.zeros(count, np.int64), hi)
        self.signup_at = timeline.sample_instants(g, self.signup_day)
        self.active_until = self._window_end(g, last)
        window = self.active_until - self.signup_day + 1
        spread = g.lognormal(0.0, 0.6, count)
        self.repeat_weight = _REPEAT_RATE[self.segment] * window * spread

    def _window_end(self, g: np.random.Generator, last: int) -> np.ndarray:
        occasional = self.signup_day + g.integers(90, max(self.timeline.days, 91) + 1, self.count)
        # Churned customers stopped a good while before the end (a quarter of the history,
        # 30 to 150 days), so their recency is clearly worse than anyone active.
        quiet = max(30, min(150, self.timeline.days // 4))
        churned = np.minimum(self.signup_day + g.integers(30, 241, self.count), last - quiet)
        end = np.select(
            [self.segment == ONE_TIME, self.segment == OCCASIONAL, self.segment == CHURNED],
            [self.signup_day + 2, occasional, churned],
            last,
        )
        return np.clip(end, self.signup_day, last)

    def customer_ids(self, customer: np.ndarray) -> pa.Array:
        """Return the merchant ids of customers (null for a negative index: a guest)."""
        return ids("cus-", np.maximum(customer, 0) + 1, self.id_width, null=customer < 0)


def customer_batch(plan: CustomerPlan, tenant: TenantDef, lo: int, hi: int, seed: int, index: int):
    """Return customers ``lo``..``hi`` as a record batch (contract field order)."""
    g = rng(seed, index, "customer-rows", lo)
    n = hi - lo
    idx = np.arange(lo, hi)
    words = vocab.people(tenant.country)
    first = pick(words["first"], g.integers(0, len(words["first"]), n))
    last = pick(words["last"], g.integers(0, len(words["last"]), n))
    email_ok = g.random(n) < 0.55
    created = plan.signup_at[idx]
    touched = g.random(n) < 0.25
    updated = np.where(touched, created + (g.random(n) * (plan.timeline.now - created)), created)
    columns = {
        "id": plan.customer_ids(idx),
        "email": _emails(first, last, idx, words["domains"], g),
        "first_name": first,
        "last_name": last,
        "phone": _phones(words["phone"], g, n),
        "address": _addresses(tenant.country, words, g, n),
        "accepts_email_marketing": pa.array(email_ok),
        "accepts_sms_marketing": pa.array(g.random(n) < 0.2),
        "tags": _tags(plan.segment[idx], email_ok, g),
        "created_at": timestamps(created, tenant.timezone),
        "updated_at": timestamps(updated.astype(np.int64), tenant.timezone),
    }
    return pa.record_batch(columns)


def _ascii(names: pa.Array) -> pa.Array:
    decomposed = pc.utf8_normalize(pc.utf8_lower(names), "NFKD")
    return pc.replace_substring_regex(decomposed, "[^a-z0-9]", "")


def _emails(first, last, idx, domains, g) -> pa.Array:
    domain = pick(domains, g.integers(0, len(domains), len(idx)))
    number = pc.cast(pa.array(idx + 1), pa.string())
    return join(_ascii(first), ".", _ascii(last), number, "@", domain)


def _phones(prefix: str, g: np.random.Generator, n: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(g.integers(0, 10_000_000, n)), pa.string()), 7, "0")
    return pc.if_else(pa.array(g.random(n) < 0.7), join(prefix, digits), None)


def _addresses(country: str, words: dict, g: np.random.Generator, n: int) -> pa.Array:
    city = g.integers(0, len(words["cities"]), n)
    street = pick(words["streets"], g.integers(0, len(words["streets"]), n))
    number = pc.cast(pa.array(g.integers(1, 200, n)), pa.string())
    number_last = country in ("DE", "SE", "BR")
    line1 = join(street, " ", number) if number_last else join(number, " ", street)
    apt = pc.cast(pa.array(g.integers(1, 40, n)), pa.string())
    line2 = pc.if_else(pa.array(g.random(n) < 0.15), join("Apt ", apt), None)
    postal = _postal(country, [c[2] for c in words["cities"]], city, g)
    return pa.StructArray.from_arrays(
        [line1, line2, pick(tuple(c[0] for c in words["cities"]), city),
         pick(tuple(c[1] for c in words["cities"]), city), postal, pa.array([country] * n)],
        names=["line1", "line2", "city", "region", "postal_code", "country"],
        mask=pa.array(g.random(n) >= 0.85),
    )  # fmt: skip


def _postal(country: str, prefixes: list[str], city: np.ndarray, g: np.random.Generator):
    rest = g.integers(0, 10**7, len(city))
    raw = join(
        pick(tuple(prefixes), city), pc.utf8_lpad(pc.cast(pa.array(rest), pa.string()), 7, "0")
    )
    if country == "JP":  # 123-4567
        return join(pc.utf8_slice_codeunits(raw, 0, 3), "-", pc.utf8_slice_codeunits(raw, 3, 7))
    length = {"GB": 6, "CA": 6, "IN": 6, "BR": 8}.get(country, 5)
    return pc.utf8_slice_codeunits(raw, 0, length)


def _tags(segment: np.ndarray, email_ok: np.ndarray, g: np.random.Generator) -> pa.Array:
    n = len(segment)
    vip = (segment == LOYAL) & (g.random(n) < 0.6)
    wholesale = g.random(n) < 0.02
    newsletter = email_ok & (g.random(n) < 0.3)
    masks = vip.astype(np.int64) | (wholesale << 1) | (newsletter << 2)
    return bitmask_lists(masks, _TAGS)


def note_batch(
    plan: CustomerPlan,
    tenant: TenantDef,
    ratio: float,
    span: tuple[int, int],
    first: int,
    seed: int,
    index: int,
) -> pa.RecordBatch:
    """Return notes (ids from ``first``) for about ``ratio`` of customers in ``span``, 1-3 each."""
    lo, hi = span
    g = rng(seed, index, "customer-notes", lo)
    chosen = lo + np.flatnonzero(g.random(hi - lo) < ratio)
    per = g.integers(1, 4, len(chosen))
    customer = np.repeat(chosen, per)
    n = len(customer)
    start = plan.signup_at[customer]
    created = start + (g.random(n) * (plan.timeline.now - start)).astype(np.int64)
    order = np.lexsort((customer, created))
    customer, created = customer[order], created[order]
    columns = {
        "id": ids("note-", np.arange(first, first + n), width_for(3 * plan.count, 7)),
        "customer_id": plan.customer_ids(customer),
        "body": pick(vocab.NOTE_TEMPLATES, g.integers(0, len(vocab.NOTE_TEMPLATES), n)),
        "author": pick(vocab.STAFF, g.integers(0, len(vocab.STAFF), n)),
        "created_at": timestamps(created, tenant.timezone),
    }
    return pa.record_batch(columns)
