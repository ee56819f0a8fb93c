"""Typed request parsing and response serialisation for views, plus their OpenAPI metadata.

A view declares what it takes and returns once, with :func:`operation`; the decorator parses and
validates the body and query into pydantic models (errors become problem+json with field-level
details), hands them to the view as ``body=`` / ``query=``, serialises the returned model, and
records everything :mod:`serving.openapi` needs to describe the route.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin

from flask import Response, json, request
from pydantic import BaseModel, ConfigDict, ValidationError

from serving.errors import ApiError, FieldError, bad_request, unprocessable

JSON_MIME = "application/json"
# Query parameters every operation accepts: tenant selection is handled by tenancy.
SHARED_QUERY_PARAMS = frozenset({"tenant_id"})


class Body(BaseModel):
    """Base for JSON request bodies: strict JSON types, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Base for query strings: values are coerced from text, unknown names refused."""

    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    """Base for response bodies."""

    model_config = ConfigDict(from_attributes=True)


@dataclass
class OperationSpec:
    """What :mod:`serving.openapi` needs to know about one view."""

    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    errors: tuple[int, ...] = ()
    content_types: tuple[str, ...] = (JSON_MIME,)
    public: bool = False
    extra_responses: dict[int, str] = field(default_factory=dict)


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Turn a pydantic error into our field/reason list."""
    result = []
    for err in exc.errors(include_url=False):
        location = ".".join(str(part) for part in err["loc"]) or "body"
        result.append(FieldError(location, err["msg"]))
    return result


def parse_body(model: type[BaseModel]) -> BaseModel:
    """Validate the JSON request body against ``model``."""
    if request.mimetype != JSON_MIME:
        raise ApiError(
            415,
            "Unsupported Media Type",
            f"Send the body as {JSON_MIME}.",
            "unsupported-media-type",
            [FieldError("Content-Type", f"expected {JSON_MIME}")],
        )
    raw = request.get_data(cache=False)
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            reason = exc.errors()[0]["msg"]
            raise bad_request("The body is not valid JSON.", FieldError("body", reason)) from None
        raise unprocessable("The body failed validation.", *field_errors(exc)) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Validate the query string against ``model`` (repeated names become lists)."""
    values: dict[str, Any] = {}
    for name in request.args:
        if name in SHARED_QUERY_PARAMS and name not in model.model_fields:
            continue
        items = request.args.getlist(name)
        annotation = model.model_fields[name].annotation if name in model.model_fields else None
        values[name] = items if _is_list(annotation) else items[-1]
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise unprocessable("The query string failed validation.", *field_errors(exc)) from None


def _is_list(annotation: Any) -> bool:
    """Tell whether a query field takes repeated values (list[...] or list[...] | None)."""
    if get_origin(annotation) in (list, tuple, set, frozenset):
        return True
    return any(_is_list(arg) for arg in get_args(annotation) if arg is not type(None))


def to_response(result: Any, status: int) -> Response:
    """Serialise a view's return value: models, lists of models, dicts, or a Response."""
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    if isinstance(result, BaseModel):
        payload = result.model_dump_json()
    elif isinstance(result, list) and result and isinstance(result[0], BaseModel):
        payload = "[" + ",".join(item.model_dump_json() for item in result) + "]"
    elif status == 204:
        return Response(status=204)
    else:
        payload = json.dumps(result)
    return Response(payload, status=status, mimetype=JSON_MIME)


def operation(
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    public: bool = False,
) -> Callable:
    """Declare a view's input and output models; parse them on each call."""
    spec = OperationSpec(body, query, response, status, errors, public=public)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            if body is not None:
                kwargs["body"] = parse_body(body)
            if query is not None:
                kwargs["query"] = parse_query(query)
            return to_response(view(*args, **kwargs), status)

        wrapper.openapi = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate
