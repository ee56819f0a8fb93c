"""Validate a chunk of raw records against a contract: lake tables for good rows, errors for bad."""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from warehouse.contracts.arrowutil import arange
from warehouse.contracts.checks import check_table
from warehouse.contracts.decode import Rows, decode
from warehouse.contracts.errors import RowError
from warehouse.contracts.levels import Findings
from warehouse.contracts.registry import CONTRACTS, Contract


class ValidationResult(NamedTuple):
    """Lake tables of the valid rows (keyed by lake entity) and one error per problem found."""

    tables: dict[str, pa.Table]
    errors: list[RowError]


def validate_records(entity: str, rows: Rows, *, first_row: int = 1) -> ValidationResult:
    """Validate raw records of ingest entity ``entity`` (``order``, ``product`` ...).

    ``rows`` is either NDJSON bytes (blank lines skipped, row number = line number) or a sequence
    of records, each raw JSON bytes (or ``msgspec.Raw``) or an already decoded mapping; element
    ``i`` is row ``first_row + i``. A row with any error is left out of ``tables``; the others
    are kept, in input order.
    """
    try:
        contract = CONTRACTS[entity]
    except KeyError:
        raise ValueError(f"unknown entity {entity!r}; choose from {sorted(CONTRACTS)}") from None
    return validate_with(contract, rows, first_row=first_row)


def validate_with(contract: Contract, rows: Rows, *, first_row: int = 1) -> ValidationResult:
    """Validate raw records against a given contract (see :func:`validate_records`)."""
    decoded = decode(contract, rows, first_row)
    table = decoded.table.combine_chunks()
    findings = Findings()
    parsed = check_table(table, contract.fields, findings)
    if contract.rules is not None:
        contract.rules(table, findings)
    for name, values in parsed.items():
        table = table.set_column(table.schema.get_field_index(name), name, values)
    if findings.bad_rows:
        bad = pa.array(sorted(findings.bad_rows), pa.int64())
        table = table.filter(pc.invert(pc.is_in(arange(table.num_rows), bad)))
    tables = {
        name: lake.replace_schema_metadata(contract.metadata)
        for name, lake in contract.shape(table).items()
    }
    errors = decoded.errors + [
        RowError(decoded.rows[index], path, reason) for index, path, reason in findings.errors
    ]
    errors.sort()
    return ValidationResult(tables, errors)
