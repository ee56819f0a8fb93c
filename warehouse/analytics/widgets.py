"""Saved dashboard widgets: each user's own list in each tenant, in display order.

Every function takes the owner (tenant and user) and touches only that owner's rows, so a
widget of another user or tenant is simply not found (404), never revealed as forbidden.
What a widget's ``config`` may hold depends on its kind; the caller passes the check as
``validate(kind, config) -> config`` and it runs on the merged state of every write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from warehouse.controldb.models import DashboardWidget
from warehouse.errors import ServiceError

# One kind per analytics answer a widget can show.
KINDS = ("overview", "sales", "products", "customers", "funnel", "realtime")
MAX_WIDGETS = 100  # per user and tenant: a dashboard, not a data store

Validate = Callable[[str, dict[str, Any]], dict[str, Any]]


class WidgetNotFound(ServiceError):
    status = 404


class TooManyWidgets(ServiceError):
    status = 409


@dataclass(frozen=True)
class Owner:
    """Whose widgets: one user in one tenant."""

    tenant_id: int
    user_id: int


def owned(owner: Owner) -> Select:
    """Return the select of the owner's widgets (for listing and lookups)."""
    return select(DashboardWidget).where(
        DashboardWidget.tenant_id == owner.tenant_id, DashboardWidget.user_id == owner.user_id
    )


def get_widget(session: Session, owner: Owner, widget_id: int) -> DashboardWidget:
    """Return one of the owner's widgets; raise WidgetNotFound for anyone else's."""
    widget = session.scalar(owned(owner).where(DashboardWidget.id == widget_id))
    if widget is None:
        raise WidgetNotFound("id", "no such widget")
    return widget


def create_widget(
    session: Session, owner: Owner, fields: Mapping[str, Any], validate: Validate
) -> DashboardWidget:
    """Save a new widget, placed last unless a position is given."""
    mine = owned(owner)
    if session.scalar(mine.with_only_columns(func.count())) >= MAX_WIDGETS:
        raise TooManyWidgets("widgets", f"at most {MAX_WIDGETS} widgets per user and tenant")
    position = fields.get("position")
    if position is None:
        last = session.scalar(mine.with_only_columns(func.max(DashboardWidget.position)))
        position = 0 if last is None else last + 1
    widget = DashboardWidget(
        tenant_id=owner.tenant_id,
        user_id=owner.user_id,
        kind=fields["kind"],
        title=fields["title"],
        position=position,
        config=validate(fields["kind"], dict(fields.get("config") or {})),
    )
    session.add(widget)
    session.flush()
    return widget


def update_widget(
    session: Session, owner: Owner, widget_id: int, fields: Mapping[str, Any], validate: Validate
) -> DashboardWidget:
    """Change some fields of one of the owner's widgets; the config is checked against its kind."""
    widget = get_widget(session, owner, widget_id)
    kind = fields.get("kind", widget.kind)
    config = fields.get("config", widget.config)
    widget.config = validate(kind, dict(config or {}))
    widget.kind = kind
    for name in ("title", "position"):
        if name in fields:
            setattr(widget, name, fields[name])
    session.flush()
    return widget


def delete_widget(session: Session, owner: Owner, widget_id: int) -> None:
    """Delete one of the owner's widgets."""
    session.delete(get_widget(session, owner, widget_id))
