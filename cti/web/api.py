"""REST plumbing: one registry of endpoints that checks roles and bodies and writes the OpenAPI document.

Every endpoint is declared once with the role it needs and the JSON schema of its body; the same
declaration enforces both on the server and describes them in ``/api/v1/openapi.json``. Errors are
JSON: ``{"error": "...", "field": "...", "problem": "..."}``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from cti import __version__
from cti.errors import CTIError, UserInputError

log = logging.getLogger("cti.web")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ROLE_LEVEL = {"operator": 1, "supervisor": 2, "admin": 3}


def json_error(status: int, message: str, *, field: str | None = None) -> web.Response:
    """An error as the API always gives it."""
    body: dict[str, Any] = {"error": message}
    if field is not None:
        body["field"] = field
        body["problem"] = message
    return web.json_response(body, status=status)


class HTTPProblem(CTIError):
    """Raise in a handler to answer with a JSON error and an HTTP status."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn user mistakes into 4xx JSON naming the field; never show a traceback."""
    try:
        return await handler(request)
    except UserInputError as exc:
        return json_error(400, exc.problem, field=exc.field)
    except HTTPProblem as exc:
        return json_error(exc.status, exc.message, field=exc.field)
    except web.HTTPException as exc:
        if exc.status >= 400 and request.path.startswith("/api/"):
            return json_error(exc.status, exc.reason)
        raise
    except CTIError as exc:
        log.warning("%s %s: %s", request.method, request.path, exc)
        return json_error(409, str(exc))
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return json_error(500, "internal error; it has been logged")


# --- body validation (the subset of JSON Schema the API uses) --------------------------------

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def validate(schema: dict[str, Any], value: Any, path: str = "") -> Any:
    """Check ``value`` against ``schema``; raise UserInputError naming the field."""
    where = path or "body"
    types = schema.get("type")
    if value is None:
        if schema.get("nullable"):
            return None
        raise UserInputError(where, "is required" if path else "a JSON object is required")
    if types == "object":
        if not isinstance(value, dict):
            raise UserInputError(where, "expected an object")
        props: dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value or value[name] in (None, ""):
                raise UserInputError(_join(path, name), "is required")
        if not schema.get("additionalProperties", False):
            for name in value:
                if name not in props:
                    raise UserInputError(_join(path, name), "is not a known field")
        return {
            k: validate(props[k], v, _join(path, k)) if k in props else v for k, v in value.items()
        }
    if types == "array":
        if not isinstance(value, list):
            raise UserInputError(where, "expected a list")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise UserInputError(where, f"at most {schema['maxItems']} items")
        return [validate(schema["items"], v, f"{where}[{i}]") for i, v in enumerate(value)]
    if types == "string":
        if not isinstance(value, str):
            raise UserInputError(where, "expected text")
        if "enum" in schema and value not in schema["enum"]:
            raise UserInputError(where, "must be one of " + ", ".join(schema["enum"]))
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise UserInputError(where, f"must have at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise UserInputError(where, f"must have at most {schema['maxLength']} characters")
        fmt = schema.get("format")
        if fmt == "date-time":
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise UserInputError(
                    where, "expected a date and time like 2026-05-04T14:30:00Z"
                ) from None
            if parsed.tzinfo is None:
                raise UserInputError(where, "the date and time needs a time zone (Z or +hh:mm)")
            return parsed
        if fmt == "date":
            if not _DATE_RE.match(value):
                raise UserInputError(where, "expected a date like 2026-05-04")
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise UserInputError(where, "is not a real date") from None
        return value
    if types in ("integer", "number"):
        ok = isinstance(value, int) if types == "integer" else isinstance(value, int | float)
        if isinstance(value, bool) or not ok:
            raise UserInputError(
                where, f"expected {'a whole number' if types == 'integer' else 'a number'}"
            )
        if "minimum" in schema and value < schema["minimum"]:
            raise UserInputError(where, f"must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise UserInputError(where, f"must be at most {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            raise UserInputError(where, f"must be more than {schema['exclusiveMinimum']}")
        return value
    if types == "boolean":
        if not isinstance(value, bool):
            raise UserInputError(where, "expected true or false")
        return value
    return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- the registry -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One REST endpoint and its contract."""

    method: str
    path: str
    handler: Handler
    role: str | None
    summary: str
    body: dict[str, Any] | None
    response: dict[str, Any] | None
    tag: str
    csrf: bool


USER_KEY: web.RequestKey[Any] = web.RequestKey("cti.user", object)
BODY_KEY: web.RequestKey[Any] = web.RequestKey("cti.body", object)


@dataclass
class Api:
    """Collects endpoints; installs them with their checks; describes them in OpenAPI."""

    title: str = "cti"
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        role: str | None,
        summary: str,
        body: dict[str, Any] | None = None,
        response: dict[str, Any] | None = None,
        tag: str = "desk",
        csrf: bool = True,
    ) -> Callable[[Handler], Handler]:
        """Declare an endpoint. ``role`` is the least role allowed (None: anyone, signed in or not)."""

        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(method, path, handler, role, summary, body, response, tag, csrf)
            )
            return handler

        return register

    def install(self, app: web.Application, *, user_of: Callable[[web.Request], Any]) -> None:
        """Add every endpoint to the app, wrapped with its role, CSRF and body checks.

        ``user_of(request)`` returns the signed-in user (with ``.role`` and ``.csrf_ok(request)``)
        or None.
        """
        for ep in self.endpoints:
            app.router.add_route(ep.method, ep.path, _guard(ep, user_of))
        app.router.add_get("/api/v1/openapi.json", self._serve_openapi)

    async def _serve_openapi(self, request: web.Request) -> web.Response:
        return web.json_response(self.openapi())

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document of every declared endpoint."""
        paths: dict[str, Any] = {}
        for ep in self.endpoints:
            op: dict[str, Any] = {
                "summary": ep.summary,
                "tags": [ep.tag],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            "application/json": {"schema": ep.response or {"type": "object"}}
                        },
                    },
                    "400": {"$ref": "#/components/responses/Invalid"},
                },
            }
            if ep.role is not None:
                op["security"] = [{"session": []}]
                op["description"] = f"Needs the role {ep.role} or above."
                op["responses"]["401"] = {"$ref": "#/components/responses/Unauthenticated"}
                op["responses"]["403"] = {"$ref": "#/components/responses/Forbidden"}
            params = re.findall(r"{(\w+)}", ep.path)
            if params:
                op["parameters"] = [
                    {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                    for p in params
                ]
            if ep.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ep.body}},
                }
            paths.setdefault(ep.path, {})[ep.method.lower()] = op
        error = {
            "type": "object",
            "properties": {
                "error": {"type": "string"},
                "field": {"type": "string"},
                "problem": {"type": "string"},
            },
            "required": ["error"],
        }

        def resp(text: str) -> dict[str, Any]:
            return {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }

        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": __version__},
            "paths": paths,
            "components": {
                "schemas": {"Error": error},
                "responses": {
                    "Invalid": resp("The request is wrong; `field` names what."),
                    "Unauthenticated": resp("Not signed in."),
                    "Forbidden": resp("Signed in, but the role does not allow it."),
                },
                "securitySchemes": {
                    "session": {"type": "apiKey", "in": "cookie", "name": "cti_session"}
                },
            },
        }


def _guard(ep: Endpoint, user_of: Callable[[web.Request], Any]) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        if ep.role is not None:
            user = user_of(request)
            if user is None:
                return json_error(401, "sign in first")
            if ROLE_LEVEL[user.role] < ROLE_LEVEL[ep.role]:
                return json_error(403, f"this needs the role {ep.role}")
            if (
                ep.csrf
                and request.method not in ("GET", "HEAD", "OPTIONS")
                and not user.csrf_ok(request)
            ):
                return json_error(403, "missing or wrong CSRF token (X-CSRF-Token header)")
            request[USER_KEY] = user
        if ep.body is not None:
            try:
                raw = await request.json(loads=json.loads)
            except (json.JSONDecodeError, UnicodeDecodeError):
                return json_error(400, "the body is not valid JSON", field="body")
            request[BODY_KEY] = validate(ep.body, raw)
        return await ep.handler(request)

    guarded.__name__ = ep.handler.__name__
    return guarded
