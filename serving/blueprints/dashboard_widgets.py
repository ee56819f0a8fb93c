"""Saved dashboard widgets under ``/api/v1/analytics/widgets/``: each user's own, per tenant.

A widget names an analytics answer (``kind``) and that answer's query parameters (``config``);
``GET .../<id>/data/`` runs the very function the analytics endpoint of that kind runs. Widgets
are personal: reading and changing them needs only ``marts:read``, and another user's (or
tenant's) widget answers 404. API keys have no user, so they cannot own widgets (403).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g
from pydantic import ValidationError

from serving.api import field_errors, operation
from serving.auth.permissions import Permission, require
from serving.auth.tenancy import tenant_id
from serving.blueprints.analytics import ANSWERS, period_of
from serving.db import db, write_transaction
from serving.errors import FieldError, forbidden, unprocessable
from serving.pagination import Keyset, Page, paginate
from serving.schemas.analytics import RangeQuery
from serving.schemas.widgets import (
    WidgetCreate,
    WidgetData,
    WidgetOut,
    WidgetPage,
    WidgetPatch,
    WidgetReplace,
)
from warehouse.analytics import widgets
from warehouse.analytics.periods import InvalidRange
from warehouse.controldb.models import DashboardWidget

bp = Blueprint("dashboard_widgets", __name__, url_prefix="/api/v1/analytics/widgets")

WIDGETS = Keyset("widgets", sort=DashboardWidget.position, id=DashboardWidget.id)
WRITE_ERRORS = (404, 409, 422)


def owner() -> widgets.Owner:
    """Return the calling user in the current tenant (API keys own no widgets)."""
    principal = g.principal
    if principal.is_api_key or principal.user_id is None:
        raise forbidden("Dashboard widgets belong to a user; call with a user's token.")
    return widgets.Owner(tenant_id(), principal.user_id)


def check_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """Validate a config as the query of its kind's endpoint; return it as stored."""
    model = ANSWERS[kind][0]
    try:
        query = model.model_validate(config)
        if isinstance(query, RangeQuery):
            period_of(query)  # refuse a range the endpoint would refuse
    except ValidationError as exc:
        errors = [FieldError(f"config.{e.field}", e.reason) for e in field_errors(exc)]
        raise unprocessable(f"The config does not fit a {kind} widget.", *errors) from None
    except InvalidRange as exc:
        error = FieldError(f"config.{exc.field}", exc.reason)
        raise unprocessable("The config's range is invalid.", error) from None
    return query.model_dump(mode="json", exclude_unset=True)


def _out(widget: DashboardWidget) -> WidgetOut:
    return WidgetOut.model_validate(widget)


@bp.get("/")
@require(Permission.MARTS_READ)
@operation(query=Page, response=WidgetPage, errors=(400,))
def list_widgets(query: Page) -> WidgetPage:
    """List your widgets in this tenant, in display order."""
    rows, cursor = paginate(db(), widgets.owned(owner()), WIDGETS, query)
    return WidgetPage(data=[_out(w) for w in rows], next_cursor=cursor)


@bp.post("/")
@require(Permission.MARTS_READ)
@operation(body=WidgetCreate, response=WidgetOut, status=201, errors=(409,))
def create_widget(body: WidgetCreate) -> WidgetOut:
    """Save a widget on your dashboard; its config is checked against its kind."""
    with write_transaction() as session:
        widget = widgets.create_widget(session, owner(), body.model_dump(), check_config)
        return _out(widget)


@bp.get("/<int:widget_id>/")
@require(Permission.MARTS_READ)
@operation(response=WidgetOut, errors=(404,))
def get_widget(widget_id: int) -> WidgetOut:
    """Show one of your widgets."""
    return _out(widgets.get_widget(db(), owner(), widget_id))


@bp.put("/<int:widget_id>/")
@require(Permission.MARTS_READ)
@operation(body=WidgetReplace, response=WidgetOut, errors=WRITE_ERRORS)
def replace_widget(widget_id: int, body: WidgetReplace) -> WidgetOut:
    """Replace one of your widgets (an omitted position keeps the current one)."""
    fields = body.model_dump(exclude_none=True)
    fields.setdefault("config", {})
    with write_transaction() as session:
        return _out(widgets.update_widget(session, owner(), widget_id, fields, check_config))


@bp.patch("/<int:widget_id>/")
@require(Permission.MARTS_READ)
@operation(body=WidgetPatch, response=WidgetOut, errors=WRITE_ERRORS)
def update_widget(widget_id: int, body: WidgetPatch) -> WidgetOut:
    """Change some fields of one of your widgets; a new kind re-checks the config."""
    fields = body.model_dump(exclude_unset=True)
    with write_transaction() as session:
        return _out(widgets.update_widget(session, owner(), widget_id, fields, check_config))


@bp.delete("/<int:widget_id>/")
@require(Permission.MARTS_READ)
@operation(status=204, errors=(404,))
def delete_widget(widget_id: int) -> None:
    """Delete one of your widgets."""
    with write_transaction() as session:
        widgets.delete_widget(session, owner(), widget_id)


@bp.get("/<int:widget_id>/data/")
@require(Permission.MARTS_READ)
@operation(response=WidgetData, errors=(404, 422, 503))
def widget_data(widget_id: int) -> WidgetData:
    """Return a widget's data: the answer of the analytics endpoint its kind names."""
    widget = widgets.get_widget(db(), owner(), widget_id)
    model, answer = ANSWERS[widget.kind]
    data = answer(model.model_validate(widget.config))
    return WidgetData(widget=_out(widget), data=data)
