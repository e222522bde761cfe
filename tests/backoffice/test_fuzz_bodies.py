"""Every JSON body the API takes, fuzzed from its schema in the OpenAPI document (Hypothesis):
bodies that follow the schema, and bodies with a wild value in a field (NUL characters, integers
beyond 64 bits, NaN, wrong types, deep nesting, unknown fields). No answer is a 500, and a refused
request (4xx) changes nothing stored: every table (but the audit log, where refusals are written
on purpose) holds exactly what it held before.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cti.app import RunningService
from tests.web.conftest import Client

from .conftest import backoffice, backoffice_with, logins_for, seeded_database, seeded_template

__all__ = ["backoffice", "backoffice_with", "seeded_database", "seeded_template"]

EXAMPLES = 500
# Path parameters: records that exist, and one that does not.
PARAMS: dict[str, list[str]] = {
    "id": ["1", "2", "999999"],
    "lead": ["1", "999999"],
    "seq": ["1"],
    "code": ["Z9"],
    "status": ["pending", "nope"],
    "form": ["attention", "nope"],
}
# Not what a request stores: the audit log (a refusal may be audited), the schema version, and the
# dialer scheduler's job store, whose standing jobs (upkeep every few seconds) move their next run
# time by themselves.
# Not what a request stores: the audit log, the schema's revision, the scheduler's jobs, and the
# instances' liveness (each instance notes itself every second, and renews its desks' leases).
NOT_STORED = ("audit_log", "alembic_version", "cti_dialer_jobs", "cti_instances", "desk_holders")

WILD: st.SearchStrategy[Any] = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30).map(lambda t: t + "\x00"),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.integers(min_value=40, max_value=200).map(lambda n: json.loads("[" * n + "]" * n)),
    st.text(max_size=5000),
)


def _strategy(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that follow ``schema`` (the subset of JSON Schema cti uses), now and then wild."""
    if not depth:  # now and then a field the schema does not know
        body = _valid(schema, depth)
        odd = st.tuples(body, WILD).map(
            lambda bw: {**bw[0], "unknown_field": bw[1]} if isinstance(bw[0], dict) else bw[0]
        )
        return st.one_of(body, body, body, odd)
    valid = _valid(schema, depth)
    return st.one_of(valid, valid, valid, WILD)  # a wild value in one field out of four


def _valid(schema: dict[str, Any], depth: int) -> st.SearchStrategy[Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):  # a pydantic model, in the document's components
        return _valid(_State.schemas[ref.rsplit("/", 1)[1]], depth)
    if "anyOf" in schema:
        return st.one_of(*(_valid(option, depth) for option in schema["anyOf"]))
    if "const" in schema:
        return st.just(schema["const"])
    types = schema.get("type")
    if types == "null":
        return st.none()
    if isinstance(types, list):
        return st.one_of(*(_valid({**schema, "type": t}, depth) for t in types))
    base: st.SearchStrategy[Any]
    if "enum" in schema:
        base = st.sampled_from(schema["enum"])
    elif types == "object":
        props: dict[str, Any] = schema.get("properties", {})
        required = [n for n in schema.get("required", ()) if n in props]
        optional = [n for n in props if n not in required]
        base = st.fixed_dictionaries(
            {n: _strategy(props[n], depth + 1) for n in required},
            optional={n: _strategy(props[n], depth + 1) for n in optional},
        )
    elif types == "array":
        base = st.lists(
            _strategy(schema.get("items", {}), depth + 1),
            max_size=min(schema.get("maxItems", 4), 4),
        )
    elif types == "string":
        fmt = schema.get("format")
        if fmt == "date":
            base = st.dates().map(str)
        elif fmt == "date-time":
            base = st.datetimes(timezones=st.just(__import__("datetime").UTC)).map(
                lambda d: d.isoformat()
            )
        else:
            base = st.text(
                min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 60), 60)
            )
    elif types == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**63) - 1) + 1)
        base = st.integers(min_value=low, max_value=schema.get("maximum", 2**63 - 1))
    elif types == "number":
        base = st.floats(
            min_value=schema.get("minimum", schema.get("exclusiveMinimum")),
            max_value=schema.get("maximum"),
            exclude_min="exclusiveMinimum" in schema,
            allow_nan=False,
            allow_infinity=False,
        )
    elif types == "boolean":
        base = st.booleans()
    else:
        base = WILD
    return st.one_of(base, st.none()) if schema.get("nullable") else base


def _endpoints(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            body = op.get("requestBody")
            if body is not None and path != "/api/v1/logout":
                found.append((method.upper(), path, body["content"]["application/json"]["schema"]))
    return sorted(found)


async def _fingerprint(service: RunningService) -> dict[str, str]:
    """A digest of every stored table's rows (but the audit log's)."""
    async with service.runtime.db.engine.connect() as conn:
        tables = [
            t
            for (t,) in await conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            if t not in NOT_STORED
        ]
        sql = " UNION ALL ".join(
            f"SELECT '{t}', md5(COALESCE(string_agg(md5(x::text), ',' ORDER BY md5(x::text)), ''))"
            f' FROM "{t}" x'
            for t in tables
        )
        return {t: d for t, d in await conn.execute(sa.text(sql))}


async def _settled(service: RunningService) -> dict[str, str]:
    """The fingerprint once what an earlier accepted request set going (a callback due at once,
    a lead released by the scheduler) has stopped changing it."""
    last = await _fingerprint(service)
    for _ in range(40):
        await asyncio.sleep(0.05)
        now = await _fingerprint(service)
        if now == last:
            return now
        last = now
    return last


class _State:
    endpoints: ClassVar[list[tuple[str, str, dict[str, Any]]]] = []
    schemas: ClassVar[dict[str, Any]] = {}
    seen: ClassVar[dict[str, int]] = {}


@pytest.fixture
async def admin(backoffice: RunningService) -> AsyncIterator[Client]:
    """The demo admin, signed in; the endpoints with a body, from the OpenAPI document."""
    async with logins_for(backoffice) as login:
        client = await login("admin")
        # The demo's campaigns run: pause them, so only the requests change what is stored.
        for campaign in (1, 2):
            assert (await client.post(f"/api/v1/campaigns/{campaign}/pause")).status == 200
        doc = await (await client.get("/api/v1/openapi.json")).json()
        _State.endpoints = _endpoints(doc)
        _State.schemas = doc["components"]["schemas"]
        _State.seen = {}
        yield client
    requests = sum(_State.seen.values())
    print(f"\n{len(_State.endpoints)} bodies fuzzed, {requests} requests: {_State.seen}")


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, str, Any]:
    method, path, schema = draw(st.sampled_from(_State.endpoints))
    concrete = re.sub(r"{(\w+)}", lambda m: draw(st.sampled_from(PARAMS[m.group(1)])), path)
    return method, concrete, draw(_strategy(schema))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_fuzzed_bodies_never_500_and_a_refusal_stores_nothing(
    backoffice: RunningService, admin: Client, data: st.DataObject
) -> None:
    assert len(_State.endpoints) > 40
    method, path, body = data.draw(_requests())
    before = await _settled(backoffice)
    async with admin.http.request(
        method,
        f"{admin.base}{path.lstrip('/')}",
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "X-CSRF-Token": admin.csrf},
    ) as resp:
        status, text = resp.status, await resp.text()
    key = f"{status // 100}xx"
    _State.seen[key] = _State.seen.get(key, 0) + 1
    assert status < 500 or status in (502, 503), f"{method} {path} {body!r}: {status} {text}"
    if 400 <= status < 500:
        after = await _fingerprint(backoffice)
        changed = sorted(t for t in after if after[t] != before.get(t))
        assert changed == [], (
            f"{method} {path} {body!r} was refused ({status}) but changed {changed}"
        )
