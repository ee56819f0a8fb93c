"""xlsx exports with xlsxwriter in ``constant_memory`` mode: rows go to disk as they come.

Limits, stated plainly: an xlsx file is a zip written at close, so a half-written one cannot
be continued - a resumed xlsx job writes the workbook again from the first row (its progress
restarts; the result is still byte-identical, since the workbook's creation time is the
snapshot's build time). A sheet holds at most 1,048,576 rows, so longer exports continue on
sheets ``<report> (2)``, ``(3)`` ..., each with the header. Excel keeps numbers as doubles
(15 significant digits) and strings up to 32,767 characters. Cells never become formulas or
links: text is written as text. Date-times are UTC.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from warehouse.exports.spec import ExportSpec

SHEET_ROWS = 1_048_576
XLSX_FILE = "data.xlsx"
Cell = Callable[[Any, int, int, Any], Any]


def build_time(build_id: str) -> dt.datetime:
    """Return when a snapshot was built, from its id (``20261031T120000123456Z-a1b2c3``)."""
    return dt.datetime.strptime(build_id[:22], "%Y%m%dT%H%M%S%fZ")


class XlsxWriter:
    """One workbook, written row by row; restarted from scratch when resumed."""

    resumable = False

    def __init__(self, work: Path, spec: ExportSpec) -> None:
        self.work = work
        self.spec = spec
        self.path = work / XLSX_FILE

    def resume(self, state: dict[str, Any] | None) -> int:
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        options = {
            "constant_memory": True,
            "tmpdir": str(self.work),
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,  # instants are UTC; Excel has no zones
        }
        import xlsxwriter  # here, not at import: ~11 MB every API worker would carry

        self.book = xlsxwriter.Workbook(str(self.path), options)
        self.book.set_properties({"created": build_time(self.spec.build_id)})
        self.header = self.book.add_format({"bold": True})
        self.datetime = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.sheet: Any = None
        self.sheets = self.row = self.rows = 0
        return 0

    def append(self, piece: pa.Table) -> None:
        cells = [self._cell(field.type) for field in piece.schema]
        columns = [column.to_pylist() for column in piece.columns]
        for values in zip(*columns, strict=True):
            if self.sheet is None or self.row >= SHEET_ROWS:
                self._new_sheet()
            for index, value in enumerate(values):
                if value is not None:
                    cells[index](self.sheet, self.row, index, value)
            self.row += 1
        self.rows += piece.num_rows

    def commit(self) -> dict[str, Any]:
        return self.state()

    def state(self) -> dict[str, Any]:
        return {"rows": self.rows}  # progress only: nothing of a workbook survives a crash

    def finish(self, schema: pa.Schema) -> Path:
        if self.sheet is None:
            self._new_sheet()
        self.book.close()
        return self.path

    def abort(self) -> None:
        """Release the rows spooled to temporary files without writing the workbook."""
        for sheet in self.book.worksheets():
            spool = getattr(sheet, "row_data_fh", None)  # constant_memory's per-sheet spool
            if spool is not None and not spool.closed:
                spool.close()

    def _new_sheet(self) -> None:
        self.sheets += 1
        name = self.spec.report[:24] + (f" ({self.sheets})" if self.sheets > 1 else "")
        self.sheet = self.book.add_worksheet(name)
        self.sheet.write_row(0, 0, self.spec.column_names, self.header)
        self.sheet.freeze_panes(1, 0)
        self.row = 1

    def _cell(self, kind: pa.DataType) -> Cell:
        if pa.types.is_timestamp(kind):
            return lambda sheet, r, c, v: sheet.write_datetime(r, c, v, self.datetime)
        if pa.types.is_date(kind):
            return lambda sheet, r, c, v: sheet.write_datetime(r, c, v, self.date)
        if pa.types.is_boolean(kind):
            return lambda sheet, r, c, v: sheet.write_boolean(r, c, v)
        if pa.types.is_decimal(kind):
            return lambda sheet, r, c, v: sheet.write_number(r, c, float(Decimal(v)))
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            return lambda sheet, r, c, v: sheet.write_number(r, c, v)
        return lambda sheet, r, c, v: sheet.write_string(r, c, str(v))
