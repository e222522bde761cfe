"""The error hierarchy: one root, user mistakes told apart from faults."""

from __future__ import annotations


class CTIError(Exception):
    """Root of every error cti raises on purpose."""


class ConfigError(CTIError):
    """The settings are wrong; the message is one line naming the key, the source and what was expected."""


class UserInputError(CTIError):
    """A person gave input that cannot be accepted; ``field`` names what is wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NotFound(CTIError):
    """The record named in the request does not exist (HTTP 404)."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"{what} {ident} does not exist")
        self.what = what


class Forbidden(CTIError):
    """The record exists but is not the viewer's to act on (HTTP 403)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Refused(CTIError):
    """The request is well formed but a rule forbids it now (HTTP 409); ``field`` names what."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
