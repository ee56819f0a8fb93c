"""Request and response models for report exports (/api/v1/reports/export/...)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field

from serving.api import Body, Out, Query
from warehouse.controldb.models import Job
from warehouse.exports import REPORTS, ExportRequest, spec_of

ReportName = Literal[tuple(REPORTS)]  # type: ignore[valid-type]
Value = Annotated[str, Field(min_length=1, max_length=200)]
Values = Annotated[list[Value], Field(min_length=1, max_length=100)]


class ExportFilters(Body):
    """Row filters; each applies only to the reports named in its description."""

    start_date: date | None = Field(
        None, description="First tenant-local day (inclusive), YYYY-MM-DD. Not stock_levels."
    )
    end_date: date | None = Field(None, description="Last tenant-local day (inclusive).")
    status: Values | None = Field(
        None, description="Order or refund statuses: orders, refunds, order_items (its order's)."
    )
    category: Values | None = Field(
        None,
        description="Category paths, a path taking its sub-categories ('Apparel' takes "
        "'Apparel > T-Shirts'): products, order_items, product_performance, stock_levels.",
    )
    segment: Values | None = Field(
        None, description="RFM segments, e.g. 'Champions': customers, customer_rfm."
    )


class ExportCreate(Body):
    """What to export and how."""

    report: ReportName = Field(description="Which report; each reads one published mart.")
    format: Literal["csv", "json", "parquet", "xlsx"] = Field(
        "csv", description="`json` is NDJSON: one JSON object per line."
    )
    compression: Literal["none", "gzip"] = Field(
        "none", description="gzip (csv and json only), compressed while it is written."
    )
    columns: Annotated[list[Value], Field(min_length=1, max_length=200)] | None = Field(
        None, description="Columns in this order; all of the report's columns if omitted."
    )
    filters: ExportFilters = Field(default_factory=ExportFilters)

    def to_request(self) -> ExportRequest:
        """Return the service's view of this request."""
        f = self.filters
        values = {"status": f.status, "category": f.category, "segment": f.segment}
        return ExportRequest(
            report=self.report,
            format=self.format,
            compression=self.compression,
            columns=self.columns,
            start_date=f.start_date,
            end_date=f.end_date,
            values={name: list(v) for name, v in values.items() if v},
        )


class ExportListQuery(Query):
    limit: int = Field(50, ge=1, le=500, description="Newest exports first, at most this many.")


class ExportFileOut(Out):
    """The finished file; `sha256` is also its ETag."""

    name: str
    content_type: str
    bytes: int
    sha256: str


class ExportOut(Out):
    """An export job; poll `url` until `status` is `succeeded`, then GET `download_url`."""

    id: str
    report: str
    format: str
    compression: str
    columns: list[str]
    filters: dict[str, object] = Field(description="The filters as requested.")
    build_id: str = Field(description="The published snapshot the export reads.")
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: int = Field(description="Rows written so far.")
    total: int | None = Field(description="Rows the export will have.")
    error: str | None
    file: ExportFileOut | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime | None = Field(description="When a finished export is removed.")
    url: str
    download_url: str | None

    @classmethod
    def of(cls, job: Job, base: str, retention_hours: float) -> ExportOut:
        """Describe an export job; ``base`` is the URL path of the export collection."""
        spec = spec_of(job)
        filters = {"start_date": spec.start_date, "end_date": spec.end_date, **spec.values}
        done = job.status == "succeeded"
        expires = job.finished_at + timedelta(hours=retention_hours) if job.finished_at else None
        return cls(
            id=job.id,
            report=spec.report,
            format=spec.format,
            compression=spec.compression,
            columns=spec.column_names,
            filters={name: value for name, value in filters.items() if value},
            build_id=spec.build_id,
            status=job.status,
            progress=job.progress,
            total=job.total,
            error=job.error,
            file=ExportFileOut(**job.result["file"]) if done and job.result else None,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            expires_at=expires,
            url=f"{base}{job.id}/",
            download_url=f"{base}{job.id}/download" if done else None,
        )


class ExportList(Out):
    data: list[ExportOut]
