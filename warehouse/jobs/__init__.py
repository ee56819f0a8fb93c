"""Background jobs: a generic, tenant-scoped queue in the control DB and the runners for it.

Public API::

    from warehouse.jobs import enqueue, get_job, JobStatus
    from warehouse.jobs.runner import ThreadRunner, run_pending

    with transaction(sessions, write=True) as session:
        job = enqueue(session, tenant_id, "images.bulk_upload", params, total=50)
    runner.submit(job.id)                   # after the commit; ThreadRunner per API process
    run_pending(settings, sessions)         # what `shoplake jobs run` does in a loop

A job kind is handled by one function registered in :mod:`warehouse.jobs.handlers`; it gets a
:class:`warehouse.jobs.runner.JobContext`, may report progress and a partial result (a job
taken over after a crash sees it in ``context.job.result`` and resumes), and returns the final
result. Statuses: queued -> running -> succeeded | failed.
"""

from warehouse.jobs.queue import MAX_ATTEMPTS, JobStatus, enqueue, get_job, new_job_id

__all__ = ["MAX_ATTEMPTS", "JobStatus", "enqueue", "get_job", "new_job_id"]
