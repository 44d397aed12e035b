"""Behaviour shared by the whole API: unknown paths and the documented error body."""

import pytest


@pytest.mark.django_db
def test_unknown_api_path_gets_json_404(api_client):
    response = api_client.get("/api/v1/products/null,null/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_unknown_api_path_with_post_gets_json_404(api_client):
    response = api_client.post("/api/v1/no-such-thing/", {"a": 1}, format="json")

    assert response.status_code == 404
    assert response.json()["detail"] == {"path": "/api/v1/no-such-thing/"}


@pytest.mark.django_db
def test_schema_documents_the_error_body_on_operations(api_client):
    schema = api_client.get("/api/schema/?format=json").json()

    assert set(schema["components"]["schemas"]["Error"]["required"]) == {
        "code",
        "message",
        "detail",
    }
    products = schema["paths"]["/api/v1/products/"]["get"]["responses"]
    assert products["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    me = schema["paths"]["/api/v1/me/"]["get"]["responses"]
    assert "401" in me and "404" in me


@pytest.mark.django_db
def test_schema_does_not_list_the_catch_all(api_client):
    schema = api_client.get("/api/schema/?format=json").json()

    assert not [p for p in schema["paths"] if "^" in p or ".*" in p]


@pytest.mark.django_db
def test_api_path_without_trailing_slash_names_the_right_path(api_client):
    response = api_client.get("/api/v1/products")

    assert response.status_code == 404
    assert response.json()["detail"]["did_you_mean"] == "/api/v1/products/"
