"""Which function runs each kind of job: one explicit registry, no discovery.

A feature that needs background work adds its kind here, pointing at a function that takes a
:class:`warehouse.jobs.runner.JobContext` and returns the job's result (a JSON object).
"""

from __future__ import annotations

from warehouse import exports
from warehouse.jobs.runner import Handler
from warehouse.media import bulk

HANDLERS: dict[str, Handler] = {
    bulk.KIND: bulk.run_bulk_upload,
    exports.KIND: exports.run_export,
}
