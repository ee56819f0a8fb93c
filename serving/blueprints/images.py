"""Product images: upload (one or many files), list, show, set primary, reorder, delete.

Also answers under ``/api/v1/tenants/<id>/products/...``. Reads need ``data:read``, changes
``data:write``. An upload of up to ``media_sync_max_files`` files is processed in the request
and is all-or-nothing; a larger one (or one sent with ``Prefer: respond-async``) answers 202
with a job, processed in the background (see :mod:`warehouse.jobs.runner`), whose result lists
each file. Rendition bytes are served by :mod:`serving.blueprints.image_files`.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, g, request

from serving.api import JSON_MIME, operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import tenant_id
from serving.db import db, write_transaction
from serving.errors import ApiError
from serving.media import (
    check_media_settings,
    file_parts,
    job_runner,
    media_env,
    read_uploads,
    refused_problem,
    url_signer,
)
from serving.protection import accepts_large_body
from serving.schemas.images import (
    FileResultOut,
    ImageList,
    ImageOrder,
    ImageOut,
    JobOut,
    UploadOut,
)
from warehouse.controldb.models import Job
from warehouse.jobs import get_job
from warehouse.media import (
    FileResult,
    ImagesRefused,
    catalog,
    delete_images,
    describe,
    require_product,
    upload_images,
)
from warehouse.media.bulk import KIND as BULK_KIND
from warehouse.media.bulk import start_bulk_upload

bp = Blueprint("images", __name__, url_prefix="/api/v1/products/<product_id>/images")


@bp.record_once
def _check_settings(state) -> None:
    # Misconfigured storage or job runner fails at start-up, not on the first upload.
    check_media_settings(state.app)


def _image_out(image) -> ImageOut:
    return ImageOut.model_validate(describe(image, url_signer()))


def _file_out(result: FileResult) -> FileResultOut:
    image = _image_out(result.image) if result.image is not None else None
    return FileResultOut(
        index=result.index,
        filename=result.filename,
        status=result.status,
        image_id=image.id if image else None,
        image=image,
        reason=result.reason,
    )


def _job_url(product_id: str, job_id: str) -> str:
    return f"{request.root_path}/api/v1/products/{quote(product_id, safe='')}/images/jobs/{job_id}"


def _job_out(job: Job, product_id: str) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,
        progress=job.progress,
        total=job.total,
        result=job.result,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        url=_job_url(product_id, job.id),
    )


def _wants_async() -> bool:
    return "respond-async" in request.headers.get("Prefer", "").lower()


@bp.post("/")
@accepts_large_body("media_max_request_bytes")
@require(Permission.DATA_WRITE)
@operation(response=UploadOut, status=201, errors=(400, 404, 413, 415, 422))
def upload(product_id: str) -> Response | tuple[UploadOut, int]:
    """Upload images of a product (multipart/form-data, one image per file part).

    Files are validated by content (JPEG, PNG, WebP or GIF). Up to `media_sync_max_files` files
    are processed at once: 201 with each file's result (200 if every file was already stored),
    or 422 naming each refused file (then nothing is stored). More files, or the header
    `Prefer: respond-async`, give 202 with a job (`Location`) whose result lists each file.
    """
    tenant = tenant_id()
    env = media_env()
    require_product(env.lake_root, tenant, product_id)
    parts = file_parts()
    if len(parts) > current_app.config["SHOPLAKE"].media_sync_max_files or _wants_async():
        job = start_bulk_upload(env, tenant, product_id, read_uploads(parts), g.principal.id)
        job_runner(current_app).submit(job.id)
        body = _job_out(job, product_id)
        headers = {"Location": body.url}
        return Response(body.model_dump_json(), 202, headers, mimetype=JSON_MIME)
    try:
        results = upload_images(env, tenant, product_id, list(read_uploads(parts)))
    except ImagesRefused as exc:
        raise refused_problem(exc, len(parts)) from None
    files = [_file_out(result) for result in results]
    counts = {s: sum(f.status == s for f in files) for s in ("created", "duplicate", "refused")}
    out = UploadOut(product_id=product_id, files=files, **counts)
    return out, 201 if counts["created"] else 200


@bp.get("/")
@require(Permission.DATA_READ)
@operation(response=ImageList, errors=(404,))
def list_images(product_id: str) -> ImageList:
    """List a product's images in display order, with their renditions and signed URLs."""
    tenant = tenant_id()
    require_product(media_env().lake_root, tenant, product_id)
    images = catalog.images_of(db(), tenant, product_id)
    return ImageList(data=[_image_out(image) for image in images])


@bp.get("/<image_id>/")
@require(Permission.DATA_READ)
@operation(response=ImageOut, errors=(404,))
def show_image(product_id: str, image_id: str) -> ImageOut:
    """Show one image of a product."""
    return _image_out(catalog.get_image(db(), tenant_id(), product_id, image_id))


@bp.put("/<image_id>/primary")
@require(Permission.DATA_WRITE)
@operation(response=ImageOut, errors=(404,))
def set_primary(product_id: str, image_id: str) -> ImageOut:
    """Make an image the product's primary image (the previous primary stops being one)."""
    with write_transaction() as session:
        image = catalog.set_primary(session, tenant_id(), product_id, image_id)
    return _image_out(image)


@bp.put("/order")
@require(Permission.DATA_WRITE)
@operation(body=ImageOrder, response=ImageList, errors=(404,))
def reorder(product_id: str, body: ImageOrder) -> ImageList:
    """Set the display order: name every image of the product exactly once."""
    with write_transaction() as session:
        images = catalog.reorder(session, tenant_id(), product_id, body.image_ids)
    return ImageList(data=[_image_out(image) for image in images])


@bp.delete("/<image_id>/")
@require(Permission.DATA_WRITE)
@operation(status=204, errors=(404,))
def delete_image(product_id: str, image_id: str) -> None:
    """Delete an image and every rendition; the next image becomes primary if needed."""
    delete_images(media_env(), tenant_id(), product_id, [image_id])


@bp.get("/jobs/<job_id>")
@require(Permission.DATA_WRITE)
@operation(response=JobOut, errors=(404,))
def show_job(product_id: str, job_id: str) -> JobOut:
    """Poll a bulk upload job; its result lists what became of each file."""
    job = get_job(db(), tenant_id(), job_id, kind=BULK_KIND)
    if job.params.get("product_id") != product_id:
        raise ApiError(404, "Not Found", "No such job for this product.", "not-found")
    return _job_out(job, product_id)


upload.openapi.extra_responses = {  # type: ignore[attr-defined]
    200: "Every file was already stored (each result says `duplicate`)",
    202: "Accepted as a background job; poll the `Location` (a JobOut)",
}
