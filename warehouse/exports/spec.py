"""What one export produces, fixed when it is created and kept as the job's params.

An :class:`ExportRequest` is what the caller asked for; :func:`resolve` checks it against the
report and the pinned snapshot and returns an :class:`ExportSpec`: the snapshot's build id, the
columns with their types, the date window already turned into UTC instants in the tenant's
timezone of that moment, and the chunk size. A resumed job reads only the spec, so it queries
the same rows in the same order and cuts the same chunks, whatever changed since.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from warehouse.controlplane.errors import Invalid
from warehouse.exports.reports import FILTERS, REPORTS, Column, Report, exportable_columns
from warehouse.publish import Snapshot

KIND = "reports.export"  # the job kind that runs an ExportSpec
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class FileFormat:
    """How one format is named and served."""

    extension: str
    content_type: str
    gzip_allowed: bool


FORMATS: dict[str, FileFormat] = {
    "csv": FileFormat(".csv", "text/csv", True),
    "json": FileFormat(".ndjson", "application/x-ndjson", True),
    # Parquet compresses its pages (zstd) and xlsx is a zip: a gzip layer would only cost time.
    "parquet": FileFormat(".parquet", "application/vnd.apache.parquet", False),
    "xlsx": FileFormat(
        ".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False
    ),
}
COMPRESSIONS = ("none", "gzip")
GZIP_TYPE = "application/gzip"


@dataclass(frozen=True)
class ExportRequest:
    """A caller's export request, already shape-checked by the API layer."""

    report: str
    format: str = "csv"
    compression: str = "none"
    columns: list[str] | None = None
    start_date: date | None = None
    end_date: date | None = None
    values: dict[str, list[str]] = field(default_factory=dict)  # status / category / segment


@dataclass(frozen=True)
class ExportSpec:
    """Everything needed to produce the same bytes again (stored as the job's params)."""

    report: str
    mart: str
    format: str
    compression: str
    columns: list[list[str]]  # [name, DuckDB type]
    build_id: str
    timezone: str
    chunk_rows: int
    start_date: str | None = None  # as requested, tenant-local
    end_date: str | None = None
    window: list[str | None] = field(default_factory=lambda: [None, None])  # query bounds
    values: dict[str, list[str]] = field(default_factory=dict)

    @property
    def file_format(self) -> FileFormat:
        return FORMATS[self.format]

    @property
    def gzip(self) -> bool:
        return self.compression == "gzip"

    @property
    def extension(self) -> str:
        return self.file_format.extension + (".gz" if self.gzip else "")

    @property
    def content_type(self) -> str:
        return GZIP_TYPE if self.gzip else self.file_format.content_type

    @property
    def column_names(self) -> list[str]:
        return [name for name, _type in self.columns]

    def to_params(self) -> dict[str, Any]:
        """Return the JSON object stored as the job's params."""
        return asdict(self)

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> ExportSpec:
        """Rebuild the spec a job was created with."""
        return cls(**params)


def resolve(
    request: ExportRequest, snapshot: Snapshot, timezone: str, chunk_rows: int
) -> ExportSpec:
    """Check ``request`` against its report and the snapshot; return the spec to run."""
    report = REPORTS.get(request.report)
    if report is None:
        raise Invalid("report", f"unknown report; choose from {', '.join(sorted(REPORTS))}")
    _check_format(request)
    _check_filters(report, request)
    return ExportSpec(
        report=report.name,
        mart=report.mart,
        format=request.format,
        compression=request.compression,
        columns=_columns(report, snapshot, request.columns),
        build_id=snapshot.build_id,
        timezone=timezone,
        chunk_rows=chunk_rows,
        start_date=request.start_date.isoformat() if request.start_date else None,
        end_date=request.end_date.isoformat() if request.end_date else None,
        window=_window(report, request, ZoneInfo(timezone)),
        values={name: list(v) for name, v in sorted(request.values.items()) if v},
    )


def _check_format(request: ExportRequest) -> None:
    chosen = FORMATS.get(request.format)
    if chosen is None:
        raise Invalid("format", f"choose from {', '.join(FORMATS)}")
    if request.compression not in COMPRESSIONS:
        raise Invalid("compression", f"choose from {', '.join(COMPRESSIONS)}")
    if request.compression == "gzip" and not chosen.gzip_allowed:
        raise Invalid("compression", f"{request.format} files are compressed already; use none")


def _check_filters(report: Report, request: ExportRequest) -> None:
    for name, values in request.values.items():
        if name not in FILTERS:
            raise Invalid(f"filters.{name}", "unknown filter")
        if values and name not in report.filters:
            takers = sorted(r.name for r in REPORTS.values() if name in r.filters)
            raise Invalid(
                f"filters.{name}", f"does not apply to {report.name}; it applies to {takers}"
            )
    dated = request.start_date is not None or request.end_date is not None
    if dated and report.date_column is None:
        raise Invalid("filters.start_date", f"{report.name} has no date to filter on")
    if request.start_date and request.end_date and request.start_date > request.end_date:
        raise Invalid("filters.end_date", "must not be before start_date")


def _columns(report: Report, snapshot: Snapshot, wanted: list[str] | None) -> list[list[str]]:
    types = {c["name"]: c["type"] for c in snapshot.columns(report.mart)}
    allowed = exportable_columns(list(types))
    # Names end up inside SQL text (quoted); mart columns are always plain identifiers.
    allowed = [name for name in allowed if SAFE_NAME.match(name)]
    if not wanted:
        return [[name, types[name]] for name in allowed]
    unknown = [name for name in wanted if name not in allowed]
    if unknown:
        raise Invalid("columns", f"not columns of {report.name}: {unknown}; choose from {allowed}")
    if len(set(wanted)) != len(wanted):
        raise Invalid("columns", "a column is named twice")
    return [[name, types[name]] for name in wanted]


def _window(report: Report, request: ExportRequest, zone: ZoneInfo) -> list[str | None]:
    """Return the query bounds: local dates as-is, or instants as naive UTC [from, to)."""
    start, end = request.start_date, request.end_date
    if report.date_kind == "local_date":
        return [start.isoformat() if start else None, end.isoformat() if end else None]
    low = _utc_midnight(start, zone) if start else None
    high = _utc_midnight(end + timedelta(days=1), zone) if end else None
    return [low, high]


def _utc_midnight(day: date, zone: ZoneInfo) -> str:
    # Marts keep instants as naive UTC timestamps; compare with the same.
    local = datetime.combine(day, time(0), tzinfo=zone)
    return local.astimezone(UTC).replace(tzinfo=None).isoformat()


def column_filters(report: Report, spec: ExportSpec) -> list[tuple[str, list[str]]]:
    """Return (column, values) pairs of the spec's filters on the mart's own columns."""
    return [
        (rule.column, spec.values[name])
        for name, rule in report.filters.items()
        if isinstance(rule, Column) and spec.values.get(name)
    ]
