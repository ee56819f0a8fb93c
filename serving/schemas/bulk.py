"""Request and response models shared by the bulk endpoints of products, customers and orders."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from serving.api import Body, Out

MAX_BULK_ITEMS = 1000


class BulkRequest(Body):
    """Creates, updates (JSON merge patches naming their ``id``) and deletes, up to 1000 in all."""

    create: list[dict[str, Any]] = Field(
        default_factory=list, description="Records as the create endpoint takes them."
    )
    update: list[dict[str, Any]] = Field(
        default_factory=list, description="Merge patches, each with the `id` it changes."
    )
    delete: list[str] = Field(default_factory=list, description="Ids to delete.")

    @model_validator(mode="after")
    def _size(self) -> BulkRequest:
        total = len(self.create) + len(self.update) + len(self.delete)
        if not 0 < total <= MAX_BULK_ITEMS:
            raise ValueError(f"send 1-{MAX_BULK_ITEMS} items in all")
        return self


class BulkFieldError(Out):
    field: str
    reason: str


class BulkItemResult(Out):
    """The outcome of one item: its HTTP-style status and, if it failed, why."""

    op: Literal["create", "update", "delete"]
    index: int = Field(description="Position of the item in its list, from 0.")
    id: str | None
    status: int = Field(description="201 created, 200 updated, 204 deleted, or 404/409/422.")
    errors: list[BulkFieldError] = Field(default_factory=list)


class BulkResult(Out):
    """Per-item results in request order (creates, then updates, then deletes)."""

    results: list[BulkItemResult]
    succeeded: int
    failed: int

    @classmethod
    def of(cls, changes: list[Any]) -> BulkResult:
        """Summarise the changes a bulk request applied."""
        results = [
            BulkItemResult(
                op=change.op,
                index=change.index,
                id=change.id,
                status=change.status,
                errors=[BulkFieldError(field=f, reason=r) for f, r in change.errors],
            )
            for change in changes
        ]
        failed = sum(1 for result in results if result.status >= 400)
        return cls(results=results, succeeded=len(results) - failed, failed=failed)
