"""The OpenAPI document: valid OpenAPI 3.1, every route in it, bodies described by their models."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from cti.errors import UserInputError
from cti.web import session_api
from cti.web.api import Api, Body, parse_body
from cti.web.app import _feature_parts, _register_core


def _api() -> Api:
    api = Api(title="cti")
    session_api.register(api)
    _register_core(api)
    for part in _feature_parts():
        part.register(api)
    return api


def test_the_document_is_valid_openapi_3_1_and_names_every_route() -> None:
    api = _api()
    doc: dict[str, Any] = api.openapi()
    assert doc["openapi"].startswith("3.1")
    validate(doc)
    for ep in api.endpoints:
        op = doc["paths"][ep.path][ep.method.lower()]
        assert (ep.body is None) == ("requestBody" not in op), ep.path
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    # OpenAPI 3.1 says "may be null" with JSON Schema's own words, not 3.0's "nullable".
    assert '"nullable"' not in json.dumps(doc)
    # Every body is a model (no hand-written schema), and every route documents its answer.
    for ep in api.endpoints:
        op = doc["paths"][ep.path][ep.method.lower()]
        if ep.body is not None:
            assert "$ref" in op["requestBody"]["content"]["application/json"]["schema"], ep.path
        answers_a_file = ep.media_type != "application/json"
        assert ep.response is not None or answers_a_file, (
            f"{ep.method} {ep.path} does not document its answer"
        )


def test_a_typed_body_is_described_by_its_model_and_refused_naming_the_field() -> None:
    doc = _api().openapi()
    spy = doc["paths"]["/api/v1/supervisor/spy"]["post"]["requestBody"]
    ref = spy["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["required"] == ["interface", "mode"]
    assert schema["additionalProperties"] is False

    from decimal import Decimal

    class Payment(Body):
        amount: Decimal
        note: str | None = None

    assert parse_body(Payment, {"amount": "12.50"}).amount == Decimal("12.50")
    for raw, field in (
        ({"amount": {"a": 1}}, "amount"),
        ({"amount": "1", "extra": 1}, "extra"),
        ({}, "amount"),
        ({"amount": 1, "note": 5}, "note"),
    ):
        try:
            parse_body(Payment, raw)
        except UserInputError as exc:
            assert exc.field == field, (raw, exc)
        else:
            raise AssertionError(f"{raw} was taken")
