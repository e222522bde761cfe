"""The error hierarchy: one root, user mistakes told apart from faults."""

from __future__ import annotations

from cti.domain.texts import Words, _, words


class CTIError(Exception):
    """Root of every error cti raises on purpose."""


class ConfigError(CTIError):
    """The settings are wrong; the message is one line naming the key, the source and what was expected."""


class UserInputError(CTIError):
    """A person gave input that cannot be accepted; ``field`` names what is wrong.

    ``problem`` is a text for people, marked ``_()`` for the catalogues; values it shows are
    given by name (``UserInputError("name", _("at most {limit} characters"), limit=80)``) so that
    the API can answer in the reader's language (``template`` and ``values``).
    """

    def __init__(self, field: str, problem: str, /, **values: object) -> None:
        said = words(problem, **values)
        self.field = field
        self.problem: Words = said
        self.template, self.values = said.template, said.values
        super().__init__(f"{field}: {said}")


class NotFound(CTIError):
    """The record named in the request does not exist (HTTP 404)."""

    template = _("{what} {ident} does not exist")

    def __init__(self, what: str, ident: object) -> None:
        self.what = what
        self.ident = ident
        # The word for the kind of record is said in the reader's language too.
        self.said = Words(self.template, what=words(what), ident=ident)
        super().__init__(str(self.said))


class Forbidden(CTIError):
    """The record exists but is not the viewer's to act on (HTTP 403)."""

    def __init__(self, message: str, /, field: str | None = None, **values: object) -> None:
        said = words(message, **values)
        self.message: Words = said
        self.template, self.values = said.template, said.values
        self.field = field
        super().__init__(said)


class Refused(CTIError):
    """The request is well formed but a rule forbids it now (HTTP 409); ``field`` names what."""

    def __init__(self, message: str, /, field: str | None = None, **values: object) -> None:
        said = words(message, **values)
        self.message: Words = said
        self.template, self.values = said.template, said.values
        self.field = field
        super().__init__(said)


class AmiError(CTIError):
    """Anything that went wrong talking to a PBX."""


class AmiUsageError(AmiError):
    """cti asked for something the AMI layer cannot do (local misuse)."""


class AmiRemoteError(AmiError):
    """The PBX answered with an error or misbehaved (remote misbehaviour)."""


class AmiLoginError(AmiRemoteError):
    """The PBX refused our login. Names the PBX and the user, never the secret."""

    def __init__(self, pbx: str, username: str, message: str) -> None:
        super().__init__(f"PBX {pbx!r} refused login for user {username!r}: {message}")
        self.pbx = pbx
        self.username = username


class AmiTimeoutError(AmiRemoteError):
    """An action got no answer in time."""
