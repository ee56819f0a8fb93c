"""Request and response models for /api/v1/analytics/widgets/.

A widget's ``config`` holds the query parameters of the analytics answer its ``kind`` names
(``sales`` takes ``days``, ``interval`` ...), checked by that answer's own query model, so a
saved widget can hold nothing its endpoint would refuse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator

from serving.api import Body, Out
from serving.pagination import Paginated
from serving.schemas.analytics import (
    CustomerAnalyticsOut,
    FunnelOut,
    OverviewOut,
    ProductAnalyticsOut,
    RealtimeOut,
    SalesSeriesOut,
)
from warehouse.analytics.widgets import KINDS

Kind = Literal[KINDS]  # type: ignore[valid-type]
KIND_HELP = "The analytics answer shown: the endpoint of the same name under /api/v1/analytics/."
CONFIG_HELP = 'That endpoint\'s query parameters, e.g. {"days": 7, "interval": "day"}.'
POSITION_HELP = "Display order (ascending); default: after the last widget."


class WidgetCreate(Body):
    kind: Kind = Field(description=KIND_HELP)
    title: str = Field(min_length=1, max_length=200)
    position: int | None = Field(None, ge=0, le=10_000, description=POSITION_HELP)
    config: dict[str, Any] = Field(default_factory=dict, description=CONFIG_HELP)


class WidgetReplace(WidgetCreate):
    """Every field given again; an omitted position keeps the current one."""


class WidgetPatch(Body):
    """Only the fields given change (none may be null); a new kind re-checks the config."""

    kind: Kind | None = Field(None, description=KIND_HELP)
    title: str | None = Field(None, min_length=1, max_length=200)
    position: int | None = Field(None, ge=0, le=10_000, description=POSITION_HELP)
    config: dict[str, Any] | None = Field(None, description=CONFIG_HELP)

    @field_validator("kind", "title", "position", "config")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null; omit the field to keep it")
        return value


class WidgetOut(Out):
    id: int
    kind: Kind
    title: str
    position: int
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class WidgetPage(Paginated[WidgetOut]):
    pass


class WidgetData(Out):
    widget: WidgetOut
    data: (
        OverviewOut
        | SalesSeriesOut
        | ProductAnalyticsOut
        | CustomerAnalyticsOut
        | FunnelOut
        | RealtimeOut
    )
