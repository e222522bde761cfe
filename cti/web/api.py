"""REST plumbing: one registry of endpoints that checks roles and bodies and writes the OpenAPI document.

Every endpoint is declared once, as a :class:`Route` in its module's ``ROUTES`` (made with the
module's :class:`RouteMaker`: its tag and default role), with the role it needs, the pydantic model
of its body (a :class:`Body`) and of its answer; the same declaration enforces the role and the
body on the server and describes all three in ``/api/v1/openapi.json`` (OpenAPI 3.1: JSON Schema 2020-12). A
handler is a module-level ``async def handler(request)``; it reads its body with
:func:`body_of`. Errors are JSON: ``{"error": "...", "field": "...", "problem": "..."}``, mapped in
one place (:func:`error_middleware`): a user mistake 400, ``Forbidden`` 403, ``NotFound`` 404,
``Refused`` 409.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any, Protocol, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from cti import __version__
from cti.domain.texts import Words, _, words
from cti.errors import CTIError, Forbidden, NotFound, Refused, UserInputError

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

    def __init__(
        self, status: int, message: str, /, field: str | None = None, **values: object
    ) -> None:
        said = words(message, **values)
        self.status = status
        self.message: Words = said
        self.template, self.values = said.template, said.values
        self.field = field
        super().__init__(said)


def said(request: web.Request, text: str, /, **values: object) -> str:
    """A message for people in the reader's language (their own, else their browser's), when
    the catalogues have it; else as written."""
    from cti.i18n import negotiate, translate

    session = request.get(USER_KEY)
    own = getattr(getattr(session, "user", None), "language", None)
    wanted = request.headers.get("Accept-Language", "")
    if own is None and not wanted:
        return text.format(**values) if values else text
    language = negotiate(wanted, own, "en")
    return translate(language, text, **{k: _said_in(language, v) for k, v in values.items()})


def _said_in(language: str, value: object) -> object:
    """A value of a message: itself, or said in ``language`` when it is a text for people."""
    from cti.i18n import translate

    if isinstance(value, Words):
        inner = {k: _said_in(language, v) for k, v in value.values.items()}
        return translate(language, value.template, **inner)
    if isinstance(value, Decimal) and value.is_finite():
        return said_decimal(language, value)
    return value


def said_decimal(language: str, value: Decimal) -> str:
    """A decimal number (an amount) as the language writes it, its decimals kept: ``1234.50`` is
    ``1.234,50`` in Portuguese and Spanish, ``1,234.50`` in English."""
    from babel.numbers import format_decimal

    from cti.i18n import babel_name

    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return str(format_decimal(value, format=pattern, locale=babel_name(language)))


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn user mistakes into 4xx JSON naming the field, in the reader's language where the
    catalogues have the message; never show a traceback."""
    try:
        return await handler(request)
    except UserInputError as exc:
        return json_error(400, said(request, exc.template, **exc.values), field=exc.field)
    except HTTPProblem as exc:
        return json_error(exc.status, said(request, exc.template, **exc.values), field=exc.field)
    except NotFound as exc:
        return json_error(404, said(request, exc.said.template, **exc.said.values))
    except Forbidden as exc:
        return json_error(403, said(request, exc.template, **exc.values), field=exc.field)
    except Refused as exc:
        return json_error(409, said(request, exc.template, **exc.values), field=exc.field)
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

# What any JSON body, query or path may hold (PostgreSQL's bigint; its text cannot hold NUL).
INT64 = (-(2**63), 2**63 - 1)
MAX_DEPTH = 32


def _shown(name: str) -> str:
    """A field name as an error may show it (a NUL in it made visible)."""
    return name.replace("\x00", "\\0")[:200]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def check_json(value: Any, path: str = "", depth: int = 0) -> None:
    """Refuse, naming the field, what no endpoint can take: NUL characters in text (keys too),
    integers beyond 64 bits, numbers that are not finite, nesting deeper than MAX_DEPTH."""
    where = _shown(path) or "body"
    if depth > MAX_DEPTH:
        raise UserInputError(where, _("is nested more than {depth} levels deep"), depth=MAX_DEPTH)
    if isinstance(value, str):
        if "\x00" in value:
            raise UserInputError(where, _("must not contain NUL characters"))
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            raise UserInputError(where, _("is out of range (a 64-bit integer)"))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise UserInputError(where, _("must be a finite number"))
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise UserInputError(
                    _join(path, _shown(key)), _("a field name must not contain NUL")
                )
            check_json(item, _join(path, key), depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, f"{where}[{i}]", depth + 1)


def check_params(request: web.Request) -> None:
    """Refuse a NUL in a path or query parameter, naming it."""
    for source in (request.match_info, request.query):
        for name, text in source.items():
            if "\x00" in text or "\x00" in name:
                raise UserInputError(_shown(name), _("must not contain NUL characters"))


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# --- typed bodies ------------------------------------------------------------------------------


class Body(BaseModel):
    """A request body: every field typed and checked; an unknown field is refused.

    Strict: a number is not text, text is not a number; money is a ``Decimal`` (a JSON number or a
    numeric string), never an object.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


# Plain words for the checks pydantic reports (its own message otherwise).
_PROBLEMS: dict[str, str] = {
    "missing": _("is required"),
    "extra_forbidden": _("is not a known field"),
    "int_type": _("expected a whole number"),
    "int_parsing": _("expected a whole number"),
    "float_type": _("expected a number"),
    "decimal_type": _("expected an amount (a number, or text like 12.50)"),
    "decimal_parsing": _("expected an amount (a number, or text like 12.50)"),
    "string_type": _("expected text"),
    "bool_type": _("expected true or false"),
    "list_type": _("expected a list"),
    "dict_type": _("expected an object"),
    "model_type": _("expected an object"),
    "model_attributes_type": _("expected an object"),
    "datetime_type": _("expected a date and time like 2026-05-04T14:30:00Z"),
    "datetime_parsing": _("expected a date and time like 2026-05-04T14:30:00Z"),
    "datetime_from_date_parsing": _("expected a date and time like 2026-05-04T14:30:00Z"),
    "timezone_aware": _("the date and time needs a time zone (Z or +hh:mm)"),
    "date_type": _("expected a date like 2026-05-04"),
    "date_parsing": _("expected a date like 2026-05-04"),
    "date_from_datetime_parsing": _("expected a date like 2026-05-04"),
}


# A bound a number broke: the key of the bound in the error's context, and how to say it.
_BOUNDS: dict[str, tuple[str, str]] = {
    "greater_than_equal": ("ge", _("must be at least {limit}")),
    "greater_than": ("gt", _("must be more than {limit}")),
    "less_than_equal": ("le", _("must be at most {limit}")),
    "less_than": ("lt", _("must be less than {limit}")),
}


def _problem(error: Any) -> tuple[str, dict[str, object]]:
    """What pydantic found wrong, as a text for people and the values it shows."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("is required"), {}
        return _("must have at least {count} characters"), {"count": ctx.get("min_length")}
    if kind == "string_too_long":
        return _("must have at most {count} characters"), {"count": ctx.get("max_length")}
    if kind == "too_long":
        return _("at most {count} items"), {"count": ctx.get("max_length")}
    if kind == "too_short":
        return _("at least {count} items"), {"count": ctx.get("min_length")}
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return words, {"limit": ctx.get(key)}
    if kind in ("literal_error", "enum"):
        choices = str(ctx.get("expected", "")).replace("'", "")
        return _("must be one of {choices}"), {"choices": choices}
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", _("is not valid"))), {}
    return _PROBLEMS.get(kind, str(error.get("msg", _("is not valid")))), {}


B = TypeVar("B", bound=Body)


def _where(loc: Iterable[object]) -> str:
    """A pydantic error location as the API names fields (``items[0].quantity``)."""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return _shown(text.lstrip(".")) or "body"


def parse_body(model: type[B], raw: Any) -> B:
    """``raw`` (parsed JSON) as ``model``; a UserInputError names the first wrong field.

    Validated in JSON mode, strictly: text is read as a date, a time or an amount where the
    model says so, and nothing else is coerced.
    """
    if not isinstance(raw, dict):
        raise UserInputError("body", _("a JSON object is required"))
    try:
        return model.model_validate_json(json.dumps(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        problem, values = _problem(first)
        raise UserInputError(_where(first.get("loc", ())), problem, **values) from None


# --- the registry -----------------------------------------------------------------------------


Schema = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One REST endpoint and its contract: where, who may call it, what it takes and gives.

    ``handler`` is a module-level coroutine function taking the request; ``body`` the
    :class:`Body` model it reads with :func:`body_of`; ``response`` the model of what it answers,
    for the document, or None when it answers a file of ``media_type`` (a recording).
    """

    method: str
    path: str
    handler: Handler
    role: str | None
    summary: str
    body: type[Body] | None = None
    response: type[BaseModel] | None = None
    tag: str = "desk"
    csrf: bool = True
    media_type: str = "application/json"


class _Default(Enum):
    ROLE = "the module's role"


@dataclass(frozen=True, slots=True)
class RouteMaker:
    """How a module declares its endpoints: each of its routes has the module's ``tag`` and, unless
    it says otherwise, the module's ``role`` (None: no sign-in needed).

    ``route = RouteMaker("backoffice", "operator")``, then
    ``route("GET", "/api/v1/x", handler, "summary", Answer, body=Form, role="admin")``.
    """

    tag: str
    role: str | None

    def __call__(
        self,
        method: str,
        path: str,
        handler: Handler,
        summary: str,
        response: type[BaseModel] | None,
        *,
        body: type[Body] | None = None,
        role: str | _Default | None = _Default.ROLE,
        tag: str | None = None,
        media_type: str = "application/json",
    ) -> Route:
        return Route(
            method=method,
            path=path,
            handler=handler,
            role=self.role if role is _Default.ROLE else role,
            summary=summary,
            body=body,
            response=response,
            tag=tag or self.tag,
            media_type=media_type,
        )


class SignedIn(Protocol):
    """What a route's guard needs of the signed-in user (:class:`cti.web.auth.Session`)."""

    @property
    def role(self) -> str:
        """``operator``, ``supervisor`` or ``admin``."""
        ...

    def csrf_ok(self, request: web.Request) -> bool:
        """Whether the request carries the session's CSRF token."""
        ...


UserOf = Callable[[web.Request], Awaitable[SignedIn | None]]

USER_KEY: web.RequestKey[Any] = web.RequestKey("cti.user", object)
BODY_KEY: web.RequestKey[Body] = web.RequestKey("cti.body", Body)


def body_of(request: web.Request, model: type[B]) -> B:
    """The request's body, checked against its route's ``model`` by the route's guard."""
    value = request[BODY_KEY]
    if not isinstance(value, model):
        raise TypeError(f"{request.path}: the route does not declare a {model.__name__} body")
    return value


@dataclass
class Api:
    """Collects endpoints; installs them with their checks; describes them in OpenAPI."""

    title: str = "cti"
    endpoints: list[Route] = field(default_factory=list)

    def add(self, routes: Iterable[Route]) -> None:
        """Declare a module's route table."""
        self.endpoints.extend(routes)

    def install(self, app: web.Application, *, user_of: UserOf) -> None:
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
        schemas: dict[str, Any] = {}

        def schema_of(declared: type[BaseModel] | Schema | None) -> Schema:
            if declared is None:
                return {"type": "object"}
            if isinstance(declared, dict):
                return declared
            found = declared.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, schema in [*found.pop("$defs", {}).items(), (declared.__name__, found)]:
                if schemas.setdefault(name, schema) != schema:
                    # Two models of one name would describe each other's routes.
                    raise ValueError(f"two different models are named {name}")
            return {"$ref": f"#/components/schemas/{declared.__name__}"}

        for ep in self.endpoints:
            op: dict[str, Any] = {
                "summary": ep.summary,
                "tags": [ep.tag],
                "operationId": re.sub(r"\W+", "_", f"{ep.method.lower()} {ep.path}").strip("_"),
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {
                            ep.media_type: {
                                "schema": schema_of(ep.response)
                                if ep.media_type == "application/json"
                                else {"type": "string", "contentMediaType": ep.media_type}
                            }
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
                    "content": {"application/json": {"schema": schema_of(ep.body)}},
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
                "schemas": {"Error": error, **schemas},
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


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_no_constants)


# Set (tests do) to check every JSON answer against the model its route documents: a key added to
# an answer and not to its model, or a wrong type, fails the request at once instead of the
# document going stale.
CHECK_ANSWERS = os.environ.get("CTI_CHECK_ANSWERS") == "1"


def _check_answer(ep: Route, answer: web.StreamResponse) -> None:
    if (
        ep.response is None
        or not isinstance(answer, web.Response)
        or answer.status != 200
        or answer.content_type != "application/json"
        or not isinstance(answer.body, bytes)
    ):
        return
    try:
        ep.response.model_validate_json(answer.body)
    except ValidationError as exc:
        raise AssertionError(
            f"{ep.method} {ep.path} answered what {ep.response.__name__} does not say: {exc}"
        ) from None


def _guard(ep: Route, user_of: UserOf) -> Handler:
    async def guarded(request: web.Request) -> web.StreamResponse:
        check_params(request)
        if ep.role is not None:
            user = await user_of(request)
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
            if request.body_exists and not _is_json(request.content_type):
                # A form (text/plain, urlencoded, multipart) is what a foreign page can send
                # without asking: never read one.
                return json_error(415, "send the body as application/json", field="Content-Type")
            try:
                raw = await request.json(loads=_loads)
            except (ValueError, UnicodeDecodeError):  # JSONDecodeError, NaN, Infinity
                return json_error(400, "the body is not valid JSON", field="body")
            except RecursionError:
                return json_error(400, f"is nested more than {MAX_DEPTH} levels deep", field="body")
            check_json(raw)
            request[BODY_KEY] = parse_body(ep.body, raw)
        answer = await ep.handler(request)
        if CHECK_ANSWERS and ep.response is not None:
            _check_answer(ep, answer)
        return answer

    guarded.__name__ = ep.handler.__name__
    return guarded
