"""OpenAPI 3.1 document generated from the routes themselves, and a local Swagger UI.

Each view's :class:`serving.api.OperationSpec` gives its models, ``require`` gives its permission
and its docstring gives the summary; nothing is written twice. The UI's assets come from an
installed package and are served by this app, so the docs work with no network.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import flask_openapi3_swagger
from flask import Blueprint, Flask, Response, current_app, json, send_from_directory
from pydantic import BaseModel, TypeAdapter

from serving.api import JSON_MIME, OperationSpec, operation

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                "required": ["field", "reason"],
            },
        },
    },
    "required": ["type", "title", "status"],
}
ERROR_TEXT = {
    400: "Malformed request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Rate limited",
}
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "sessionAuth": {"type": "apiKey", "in": "cookie", "name": "session"},
}
_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>")

bp = Blueprint("docs", __name__, url_prefix="/api/v1")
_ASSETS = Path(flask_openapi3_swagger.__file__).parent / "templates" / "swagger"


class _Components:
    """Collects JSON schemas of models under ``components/schemas``."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}

    def ref(self, annotation: Any) -> dict[str, Any]:
        schema = TypeAdapter(annotation).json_schema(
            ref_template="#/components/schemas/{model}", mode="serialization"
        )
        self.schemas.update(schema.pop("$defs", {}))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            self.schemas[annotation.__name__] = schema
            return {"$ref": f"#/components/schemas/{annotation.__name__}"}
        return schema

    def input_ref(self, model: type[BaseModel]) -> dict[str, Any]:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        self.schemas.update(schema.pop("$defs", {}))
        self.schemas[model.__name__] = schema
        return {"$ref": f"#/components/schemas/{model.__name__}"}


def openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """Convert a werkzeug rule to an OpenAPI path and its path parameters."""
    params = []
    for match in _CONVERTER.finditer(rule):
        kind = "integer" if match["conv"] == "int" else "string"
        params.append(
            {"name": match["name"], "in": "path", "required": True, "schema": {"type": kind}}
        )
    return _CONVERTER.sub(lambda m: "{" + m["name"] + "}", rule), params


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": prop,
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(view: Any, method: str, components: _Components) -> dict[str, Any]:
    spec: OperationSpec = getattr(view, "openapi", OperationSpec())
    doc = (view.__doc__ or "").strip().splitlines()
    op: dict[str, Any] = {
        "summary": doc[0] if doc else view.__name__,
        "operationId": f"{method.lower()}_{view.__name__}",
    }
    if len(doc) > 1:
        op["description"] = "\n".join(line.strip() for line in doc[1:]).strip()
    permission = getattr(view, "required_permission", None)
    if permission is not None:
        op["security"] = [{"bearerAuth": []}, {"apiKeyAuth": []}, {"sessionAuth": []}]
        op["x-permission"] = permission.value
    elif spec.public:
        op["security"] = []
    parameters = _query_parameters(spec.query) if spec.query else []
    if parameters:
        op["parameters"] = parameters
    if spec.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {JSON_MIME: {"schema": components.input_ref(spec.body)}},
        }
    success: dict[str, Any] = {"description": "Success"}
    if spec.response is not None:
        success["content"] = {
            ct: {"schema": components.ref(spec.response)} for ct in spec.content_types
        }
    op["responses"] = {str(spec.status): success}
    codes = set(spec.errors) | {429}
    if permission is not None:
        codes |= {401, 403}
    if spec.body is not None or spec.query is not None:
        codes |= {400, 415, 422} if spec.body is not None else {422}
    for code in sorted(codes):
        op["responses"][str(code)] = {
            "description": ERROR_TEXT.get(code, "Error"),
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
    for code, text in spec.extra_responses.items():
        op["responses"].setdefault(str(code), {"description": text})
    return op


def build_spec(app: Flask) -> dict[str, Any]:
    """Describe every route of ``app`` as an OpenAPI 3.1 document."""
    components = _Components()
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        path, params = openapi_path(rule.rule)
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = _operation(view, method, components)
            op["operationId"] = f"{rule.endpoint.replace('.', '_')}_{method.lower()}"
            op["tags"] = [rule.endpoint.split(".")[0]]
            if params:
                op["parameters"] = params + op.get("parameters", [])
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "shoplake API",
            "version": "1.0.0",
            "description": "Multi-tenant ecommerce analytics. Every route also answers under "
            "`/api/...` (legacy alias) and, for tenant resources, under "
            "`/api/v1/tenants/{tenant}/...`.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": components.schemas, "securitySchemes": SECURITY_SCHEMES},
    }


@bp.get("/openapi.json")
@operation(public=True, response=dict)
def openapi_document() -> Response:
    """Return the OpenAPI 3.1 document for this API."""
    if "shoplake.openapi" not in current_app.extensions:
        current_app.extensions["shoplake.openapi"] = json.dumps(build_spec(current_app))
    return Response(current_app.extensions["shoplake.openapi"], mimetype=JSON_MIME)


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>shoplake API</title>
<link rel="stylesheet" href="docs/assets/css/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="docs/assets/js/swagger-ui-bundle.js"></script>
<script src="docs/assets/js/swagger-ui-standalone-preset.js"></script>
<script src="docs/init.js"></script></body></html>
"""
INIT_JS = """window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: "BaseLayout"});
"""


@bp.get("/docs")
@operation(public=True)
def docs_page() -> Response:
    """Show interactive API documentation (Swagger UI, served locally)."""
    return Response(DOCS_PAGE, mimetype="text/html")


@bp.get("/docs/init.js")
@operation(public=True)
def docs_init() -> Response:
    """Start Swagger UI on this API's document (a file, so the CSP can forbid inline scripts)."""
    return Response(INIT_JS, mimetype="text/javascript")


@bp.get("/docs/assets/<path:filename>")
@operation(public=True)
def asset(filename: str) -> Response:
    """Serve a Swagger UI asset."""
    return send_from_directory(_ASSETS, filename, max_age=86400)
