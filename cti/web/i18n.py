"""The pages' language: ``GET /api/v1/i18n`` (the catalogue of the reader's language as JSON,
with the currency) and ``PUT /api/v1/me/language`` (a user's own choice). See :mod:`cti.i18n`."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field

from cti.db import users as users_repo
from cti.errors import UserInputError
from cti.i18n import LANGUAGE_NAMES, LANGUAGES, _, messages, negotiate
from cti.web.api import Api, Body, Route, RouteMaker, body_of
from cti.web.auth import SignedIn
from cti.web.state import current, web_state

route = RouteMaker("session", None)


def language_of(request: web.Request, user: SignedIn | None) -> str:
    """The language to answer ``request`` in: the user's own, else their browser's, else the
    server's."""
    settings = web_state(request).runtime.settings.server
    return negotiate(
        request.headers.get("Accept-Language", ""),
        user.language if user is not None else None,
        settings.language,
    )


class I18nReply(BaseModel):
    language: str = Field(description="the language of the texts: en, pt-BR or es")
    chosen: str | None = Field(description="the signed-in user's own choice (None: the browser's)")
    languages: dict[str, str] = Field(description="the languages offered, by code: their names")
    currency: str = Field(description="the currency money is shown in (ISO 4217)")
    messages: dict[str, str] = Field(description="the translations, by English text")


async def catalogue(request: web.Request) -> web.StreamResponse:
    session = await web_state(request).user_of(request)
    user = session.user if session is not None else None
    language = language_of(request, user)
    reply = I18nReply(
        language=language,
        chosen=user.language if user is not None else None,
        languages=LANGUAGE_NAMES,
        currency=web_state(request).runtime.settings.server.currency,
        messages=messages(language),
    )
    resp = web.json_response(reply.model_dump(mode="json"))
    resp.headers["Vary"] = "Accept-Language, Cookie"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


class LanguageBody(Body):
    language: Annotated[str | None, Field(max_length=10)] = Field(
        description="en, pt-BR or es; null: the browser's"
    )


class LanguageReply(BaseModel):
    language: str | None


async def set_language(request: web.Request) -> web.StreamResponse:
    body = body_of(request, LanguageBody)
    if body.language is not None and body.language not in LANGUAGES:
        raise UserInputError(
            "language", _("must be one of {choices}, or null"), choices=", ".join(LANGUAGES)
        )
    user = current(request).user
    await users_repo.set_language(web_state(request).runtime.db, user.id, body.language)
    return web.json_response(LanguageReply(language=body.language).model_dump())


ROUTES: tuple[Route, ...] = (
    route(
        "GET",
        "/api/v1/i18n",
        catalogue,
        "The pages' texts in the reader's language (their own, else their browser's), and the "
        "currency",
        I18nReply,
    ),
    route(
        "PUT",
        "/api/v1/me/language",
        set_language,
        "Choose the language the pages speak to me (null: my browser's)",
        LanguageReply,
        body=LanguageBody,
        role="operator",
    ),
)


def register(api: Api) -> None:
    """Declare the language endpoints."""
    api.add(ROUTES)
