"""Report exports: a tenant's mart rows streamed to CSV, NDJSON, Parquet or xlsx by a job.

Public API::

    from warehouse.exports import ExportRequest, start_export, run_export, REPORTS

    job = start_export(sessions, marts, tenant.timezone, ExportRequest("orders", "csv", "gzip"),
                       chunk_rows=settings.export_chunk_rows, created_by=principal_id)
    # the job runner calls run_export(context); the file lands under var/exports/<tenant_id>/

Modules: ``reports`` (what can be exported), ``spec`` (a request fixed into job params),
``shaping`` and ``query`` (reading rows in file order, in chunks), ``writers``, ``columnar``
and ``spreadsheet`` (one per format), ``job`` (the checkpointed handler), ``files`` (paths
and durable writes), ``retention`` and ``service`` (what the API calls).
"""

from warehouse.exports.job import KIND, SnapshotGone, download_name, run_export
from warehouse.exports.reports import FILTERS, REPORTS, Report
from warehouse.exports.retention import remove_expired
from warehouse.exports.service import (
    ExportFile,
    delete_export,
    export_file,
    get_export,
    list_exports,
    spec_of,
    start_export,
)
from warehouse.exports.spec import COMPRESSIONS, FORMATS, ExportRequest, ExportSpec

__all__ = [
    "COMPRESSIONS",
    "FILTERS",
    "FORMATS",
    "KIND",
    "REPORTS",
    "ExportFile",
    "ExportRequest",
    "ExportSpec",
    "Report",
    "SnapshotGone",
    "delete_export",
    "download_name",
    "export_file",
    "get_export",
    "list_exports",
    "remove_expired",
    "run_export",
    "spec_of",
    "start_export",
]
