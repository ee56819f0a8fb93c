"""Report exports: start one (a background job), poll it, download the file, list, delete.

Also answers under ``/api/v1/tenants/<id>/reports/export/``. Every route needs
``exports:create`` in the tenant; another tenant's export is a 404. The job streams the rows of
the snapshot published when the export was created (see :mod:`warehouse.exports.job`); the
download serves the finished file with its SHA-256 as a strong ETag and honours ``Range`` and
``If-Range`` (206, 416), so an interrupted download resumes.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, g, request, send_file
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from serving.api import JSON_MIME, operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import current_tenant, tenant_id
from serving.db import db, session_factory
from serving.errors import ApiError
from serving.marts import tenant_marts
from serving.media import job_runner
from serving.schemas.exports import ExportCreate, ExportList, ExportListQuery, ExportOut
from warehouse.exports import (
    FORMATS,
    delete_export,
    export_file,
    get_export,
    list_exports,
    start_export,
)
from warehouse.exports.spec import GZIP_TYPE

bp = Blueprint("exports", __name__, url_prefix="/api/v1/reports/export")


def _settings():
    return current_app.config["SHOPLAKE"]


def _out(job) -> ExportOut:
    base = f"{request.root_path}{bp.url_prefix}/"
    return ExportOut.of(job, base, _settings().export_retention_hours)


@bp.post("/")
@require(Permission.EXPORTS)
@operation(body=ExportCreate, response=ExportOut, status=202, errors=(503,))
def create_export(body: ExportCreate) -> Response:
    """Start exporting a report to a file; 202 with the export to poll (`Location`).

    The export reads the snapshot published now, filtered and projected as asked; `total` is
    its row count. Filters that do not apply to the report are refused (422).
    """
    tenant, _role = current_tenant(required=True)
    assert tenant is not None
    job = start_export(
        session_factory(),
        tenant_marts(),
        tenant.timezone,
        body.to_request(),
        chunk_rows=_settings().export_chunk_rows,
        created_by=g.principal.id,
    )
    job_runner(current_app).submit(job.id)
    out = _out(job)
    return Response(out.model_dump_json(), 202, {"Location": out.url}, mimetype=JSON_MIME)


@bp.get("/")
@require(Permission.EXPORTS)
@operation(query=ExportListQuery, response=ExportList)
def list_tenant_exports(query: ExportListQuery) -> ExportList:
    """List the tenant's exports, newest first (expired ones are gone)."""
    jobs = list_exports(db(), tenant_id(), _settings().export_retention_hours, query.limit)
    return ExportList(data=[_out(job) for job in jobs])


@bp.get("/<job_id>/")
@require(Permission.EXPORTS)
@operation(response=ExportOut, errors=(404,))
def show_export(job_id: str) -> ExportOut:
    """Show an export: status, rows written of the total, errors, and the file once done."""
    return _out(get_export(db(), tenant_id(), job_id, _settings().export_retention_hours))


@bp.get("/<job_id>/download")
@require(Permission.EXPORTS)
@operation(response=bytes, errors=(404, 409, 416))
def download_export(job_id: str) -> Response:
    """Download a finished export; `Range` (with `If-Range`) resumes a partial download."""
    settings = _settings()
    job = get_export(db(), tenant_id(), job_id, settings.export_retention_hours)
    found = export_file(settings.var_dir, job)
    try:
        response = send_file(
            found.path,
            mimetype=found.content_type,
            as_attachment=True,
            download_name=found.name,
            conditional=True,
            etag=found.sha256,
            max_age=0,
        )
    except RequestedRangeNotSatisfiable:
        raise _unsatisfiable(found.size) from None
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _unsatisfiable(size: int) -> ApiError:
    headers = {"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"}
    detail = f"The range starts past the file's end ({size} bytes)."
    return ApiError(416, "Range Not Satisfiable", detail, "range-not-satisfiable", headers=headers)


@bp.delete("/<job_id>/")
@require(Permission.EXPORTS)
@operation(status=204, errors=(404,))
def remove_export(job_id: str) -> None:
    """Delete an export and its file (a running export stops at its next chunk)."""
    settings = _settings()
    delete_export(
        session_factory(), settings.var_dir, tenant_id(), job_id, settings.export_retention_hours
    )


download_export.openapi.content_types = tuple(  # type: ignore[attr-defined]
    sorted({f.content_type for f in FORMATS.values()} | {GZIP_TYPE})
)
download_export.openapi.extra_responses = {  # type: ignore[attr-defined]
    206: "Partial content: the requested byte range",
    304: "Not modified (If-None-Match matched the ETag)",
}
