"""Record contracts (version 1): the one definition of each ingest entity, used by every writer.

Public API::

    from warehouse.contracts import CONTRACTS, LAKE_ENTITIES, RowError, validate_records

    tables, errors = validate_records("order", ndjson_bytes_or_records, first_row=1)
    # tables: {"orders": pa.Table, "order_items": pa.Table}  (valid rows only, input order)
    # errors: [RowError(row=3, field="items.0.quantity", reason="must be >= 1"), ...]

* ``validate_records(entity, rows, *, first_row=1) -> ValidationResult`` (a named tuple
  ``(tables, errors)``). ``rows`` is NDJSON ``bytes`` (blank lines skipped; row number = line
  number + first_row - 1), ``NdjsonLines(blob, count)`` (NDJSON already known to hold ``count``
  lines, none blank: a bulk ingest chunk) or a sequence of records (raw JSON
  ``bytes``/``msgspec.Raw`` or decoded mappings; element ``i`` is row ``first_row + i``).
  Invalid rows never sink valid ones.
* ``RowError(row, field, reason)``: ``row`` is 1-based in the whole request, ``field`` a dotted
  path (``items.0.quantity``; ``$`` = the row as a whole: malformed JSON, not an object).
* ``CONTRACTS[name] -> Contract`` for ``product, customer, order, event, stock_event,
  price_event, refund, customer_note, payment, dispute, payment_event``. A contract has
  ``name``, ``version``
  (``CONTRACT_VERSION``), ``fields``, ``wire_schema`` (input shape), ``lake`` (lake entity name
  -> :class:`LakeEntity` with ``schema``, ``key`` and ``parent``), ``entity`` (its main lake
  entity) and ``delete_tables(ids)`` (key-only rows to land with ``op="delete"``).
* ``LAKE_ENTITIES[name] -> LakeEntity`` for ``products, customers, orders, order_items, events,
  stock_events, price_events, refunds, customer_notes, payments, disputes,
  payment_events``.

What is checked: JSON syntax and UTF-8, types (no coercion: ``"5"`` is not an int, ``1.0`` is not
an int), unknown fields refused at every level, required fields present and non-null (required
text non-empty), non-negative amounts and quantities, id/text lengths, enum values, ISO 4217
currency codes (``warehouse.money``), email shape, ISO 3166-1 country codes, RFC 3339 timestamps
with an offset, JSON-object event properties, and the order arithmetic in
:mod:`warehouse.contracts.rules`.

Speed: well-typed chunks are parsed by Arrow's C++ JSON reader straight into columns (GIL
released); only blocks containing a bad row are decoded line by line with msgspec to say which
row and why. Contracts with free-form JSON (event ``properties``, variant ``attributes``) use
msgspec Structs per line and build Arrow columns field by field. See ``benchmarks/contracts.py``.
"""

from warehouse.contracts.decode import NdjsonLines
from warehouse.contracts.errors import WHOLE_ROW, RowError
from warehouse.contracts.registry import (
    CONTRACT_VERSION,
    CONTRACTS,
    LAKE_ENTITIES,
    Contract,
    LakeEntity,
)
from warehouse.contracts.validate import ValidationResult, validate_records, validate_with

__all__ = [
    "CONTRACTS",
    "CONTRACT_VERSION",
    "LAKE_ENTITIES",
    "WHOLE_ROW",
    "Contract",
    "LakeEntity",
    "NdjsonLines",
    "RowError",
    "ValidationResult",
    "validate_records",
    "validate_with",
]
