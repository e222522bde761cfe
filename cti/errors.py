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
