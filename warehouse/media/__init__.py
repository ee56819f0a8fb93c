"""Product images: validation by content, renditions, storage, catalog, signed URLs, bulk jobs.

Public API::

    from warehouse.media import MediaEnv, Upload, upload_images, delete_images, images_for

    env = MediaEnv.from_settings(settings, sessions)
    results = upload_images(env, tenant_id, product_id, [Upload(name, content_type, data)])
    # every file accepted and stored, or ImagesRefused (422) listing each refused file
    images_for(session, tenant_id, ["p1", "p2"], signer)   # {"p1": [image dict, ...], "p2": []}
    delete_images(env, tenant_id, product_id)              # all images of a product (on delete)

* Validation (:mod:`.decode`): JPEG, PNG, WebP or GIF by content; a name or declared type
  claiming another format is refused; byte and pixel limits; truncated data refused.
* Renditions (:mod:`.renditions`): ``original`` (metadata stripped, orientation applied),
  ``thumbnail`` 200, ``medium`` 800, ``large`` 1600 (WebP where smaller).
* Catalog (:mod:`.catalog`): order, one primary (also enforced by a partial unique index),
  dedup by SHA-256 of the uploaded bytes per product.
* Bulk (:mod:`.bulk`): large uploads become a ``images.bulk_upload`` job.
* Signed URLs (:mod:`.signing`): HMAC over tenant, image, rendition and expiry.
"""

from warehouse.media.catalog import images_of
from warehouse.media.errors import (
    ImageNotFound,
    ImageRejected,
    ImagesRefused,
    InvalidOrder,
    MediaError,
    ProductNotFound,
)
from warehouse.media.limits import NAMES as RENDITIONS
from warehouse.media.limits import Limits
from warehouse.media.present import describe, images_for
from warehouse.media.products import product_exists, require_product
from warehouse.media.service import (
    FileResult,
    MediaEnv,
    Upload,
    delete_images,
    upload_images,
)
from warehouse.media.signing import SignatureProblem, UrlSigner

__all__ = [
    "RENDITIONS",
    "FileResult",
    "ImageNotFound",
    "ImageRejected",
    "ImagesRefused",
    "InvalidOrder",
    "Limits",
    "MediaEnv",
    "MediaError",
    "ProductNotFound",
    "SignatureProblem",
    "Upload",
    "UrlSigner",
    "delete_images",
    "describe",
    "images_for",
    "images_of",
    "product_exists",
    "require_product",
    "upload_images",
]
