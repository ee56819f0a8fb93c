"""The OpenAPI document is valid 3.1, lists every route, and the docs UI works offline."""

from openapi_spec_validator import validate

from serving.openapi import openapi_path


def test_document_validates(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_route_and_method_is_listed(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path, _params = openapi_path(rule.rule)
        assert path in paths, f"{rule.rule} missing"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths[path], f"{method} {rule.rule} missing"


def test_every_operation_has_a_summary_and_protected_ones_name_their_permission(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, operations in paths.items():
        for method, op in operations.items():
            assert op["summary"] and not op["summary"].startswith("wrapper"), (method, path)
            if op.get("security"):
                assert op.get("x-permission"), (method, path)


def test_legacy_alias_serves_the_same_document(client):
    assert (
        client.get("/api/openapi.json").get_json() == client.get("/api/v1/openapi.json").get_json()
    )


def test_docs_page_uses_only_local_assets(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "http://" not in page and "https://" not in page
    for asset in ("assets/js/swagger-ui-bundle.js", "assets/css/swagger-ui.css", "init.js"):
        with client.get(f"/api/v1/docs/{asset}") as response:
            assert response.status_code == 200, asset
