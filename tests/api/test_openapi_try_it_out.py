"""/docs' "Try it out" starts from the example Swagger UI builds out of the OpenAPI schema
(an enum's first value, "string" for free text): for a note that body is recorded, not
refused because the document left the modality's choices out."""

from __future__ import annotations

from typing import Any

import pytest

from domain.patient_commands import MODALITIES
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.store_independent  # one store is enough: tests/conftest.py


def swagger_example(schema: dict[str, Any]) -> dict[str, Any]:
    """The body Swagger UI 5 fills in for the required string fields of a JSON object."""
    body: dict[str, Any] = {}
    for name in schema["required"]:
        prop = schema["properties"][name]
        assert prop["type"] == "string", name
        body[name] = prop["enum"][0] if "enum" in prop else "string"
    return body


class TestTryItOut:
    def test_the_note_body_documents_the_modalities(self, api: ApiClient) -> None:
        spec = api.client.get("/openapi.json").get_json()
        note = spec["components"]["schemas"]["NoteIn"]
        assert note["properties"]["modality"]["enum"] == list(MODALITIES)

    def test_the_example_note_body_is_recorded(self, api: ApiClient, patient: str) -> None:
        spec = api.client.get("/openapi.json").get_json()
        body = swagger_example(spec["components"]["schemas"]["NoteIn"])
        response = api.post(f"/api/v1/patients/{patient}/notes", body)
        assert response.status_code == 201, response.get_json()

    def test_a_modality_outside_the_list_is_still_a_422_naming_it(
        self, api: ApiClient, patient: str
    ) -> None:
        body = {"kind": "progress", "modality": "string", "text": "string"}
        response = api.post(f"/api/v1/patients/{patient}/notes", body)
        assert response.status_code == 422
        assert "modality" in response.get_json()["errors"]
