"""Rendition bytes: to principals of the owning tenant, or to anyone holding a signed URL.

``GET /api/v1/products/<product_id>/images/<image_id>/<rendition>`` needs ``data:read`` in the
image's tenant; ``GET /api/v1/media/<tenant_id>/images/<image_id>/<rendition>?expires=&signature=``
needs no credentials, only a valid signature for exactly that tenant, image and rendition
(:mod:`warehouse.media.signing`). Both send the stored bytes with their content type, a strong
ETag (304 on a matching If-None-Match, without reading storage) and private caching: a
rendition's bytes never change, so the cache lifetime is limited only by access (the signed
URL's expiry).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from serving.api import operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import tenant_id
from serving.db import db
from serving.errors import ApiError, forbidden, not_found
from serving.media import media_env, url_signer
from serving.protection import from_setting, path_rule
from warehouse.controldb.models import ProductImage, Tenant
from warehouse.media import RENDITIONS, SignatureProblem, catalog
from warehouse.media.formats import FORMATS
from warehouse.media.urls import IMAGE_PATH, SIGNED_PATH
from warehouse.storage import ObjectMissing

bp = Blueprint("image_files", __name__)
log = logging.getLogger("shoplake.media")

CACHE_SECONDS = 86400
CONTENT_TYPES = tuple(mime for _name, mime, _ext in FORMATS.values())


def _rule(template: str) -> str:
    names = ("tenant_id", "product_id", "image_id", "rendition")
    converters = {"tenant_id": "<int:tenant_id>"}
    return template.format(**{n: converters.get(n, f"<{n}>") for n in names})


# Dashboards embed many signed thumbnails without credentials; they get their own budget per
# address instead of the small anonymous one.
SIGNED_DOWNLOADS = path_rule(
    "signed-media",
    from_setting("ratelimit_signed_media"),
    paths=(_rule(SIGNED_PATH),),
    methods=("GET",),
    message="Too many image downloads from your address.",
    replaces_address=True,
)


def send_rendition(image: ProductImage, rendition: str, max_age: int) -> Response:
    """Answer with a rendition's bytes, or 304 if the client's copy is current."""
    stored = image.renditions.get(rendition) if rendition in RENDITIONS else None
    if stored is None:
        raise not_found(f"No rendition {rendition!r}; choose from {', '.join(RENDITIONS)}.")
    if request.if_none_match.contains(stored["etag"]):
        response = Response(status=304)
    else:
        try:
            data = media_env().storage.get(image.tenant_id, stored["key"])
        except ObjectMissing:
            log.error("rendition missing from storage", extra={"image_id": image.id})
            raise not_found("The image's file is missing.") from None
        response = Response(data, mimetype=stored["content_type"])
    response.set_etag(stored["etag"])
    response.headers["Cache-Control"] = f"private, max-age={max_age}, immutable"
    return response


def _documented(view):
    view.openapi.content_types = CONTENT_TYPES
    view.openapi.extra_responses = {304: "Not modified (If-None-Match matched the ETag)"}
    return view


@bp.get(_rule(IMAGE_PATH))
@require(Permission.DATA_READ)
@operation(response=bytes, errors=(404,))
def get_rendition(product_id: str, image_id: str, rendition: str) -> Response:
    """Download a rendition of a product image (original, thumbnail, medium or large)."""
    image = catalog.get_image(db(), tenant_id(), product_id, image_id)
    return send_rendition(image, rendition, CACHE_SECONDS)


@bp.get(_rule(SIGNED_PATH))
@operation(public=True, response=bytes, errors=(403, 404))
def get_signed_rendition(tenant_id: int, image_id: str, rendition: str) -> Response:
    """Download a rendition through a signed, expiring URL (no credentials needed)."""
    try:
        remaining = url_signer().verify(
            tenant_id,
            image_id,
            rendition,
            request.args.get("expires"),
            request.args.get("signature"),
        )
    except SignatureProblem as exc:
        raise forbidden(f"This image URL is not valid: {exc}.") from None
    tenant = db().get(Tenant, tenant_id)
    if tenant is None or not tenant.is_active:
        raise ApiError(403, "Forbidden", "This tenant is suspended.", "tenant-suspended")
    image = catalog.tenant_image(db(), tenant_id, image_id)
    if image is None:
        raise not_found("The image no longer exists.")
    return send_rendition(image, rendition, min(remaining, CACHE_SECONDS))


_documented(get_rendition)
_documented(get_signed_rendition)
