"""A private PostgreSQL for when no database URL is configured (the ``pgserver`` package).

The server keeps its data in a directory (by default the user's data directory,
``platformdirs.user_data_dir("cti")/postgres``), listens only on a unix socket, is started on enter
and stopped on exit. A database named ``cti`` is created in it on first use.

Example::

    async with EmbeddedPostgres() as pg:
        await migrate.upgrade_async(pg.url)
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import platformdirs

from cti.errors import CTIError

log = logging.getLogger(__name__)

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class EmbeddedPostgresError(CTIError):
    """The embedded PostgreSQL could not be started or prepared."""


def default_data_dir() -> Path:
    """Where the embedded server keeps its data unless told otherwise."""
    return Path(platformdirs.user_data_dir("cti")) / "postgres"


def _pgserver() -> Any:
    # pgserver reads the runtime directory at import and warns when XDG_RUNTIME_DIR is unset.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    return pgserver


class EmbeddedPostgres:
    """Start, prepare and stop a private PostgreSQL server; ``url`` reaches its ``cti`` database.

    Usable as a sync (``with``) or an async (``async with``) context manager; the async form runs
    the blocking start and stop in a worker thread.
    """

    def __init__(self, data_dir: str | Path | None = None, *, database: str = "cti") -> None:
        if not _IDENT.match(database):
            raise EmbeddedPostgresError(f"database name {database!r} is not a plain identifier")
        self.data_dir = Path(data_dir) if data_dir else default_data_dir()
        self.database = database
        self._server: Any = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """``postgresql://postgres:@/cti?host=<socket dir>`` (no password: local trust only)."""
        if self._url is None:
            raise EmbeddedPostgresError("the embedded PostgreSQL is not running")
        return self._url

    @property
    def running(self) -> bool:
        """Whether this handle holds a started server."""
        return self._server is not None

    def start(self) -> str:
        """Start the server (initialising the directory the first time); return the database URL."""
        if self._server is not None:
            return self.url
        pgserver = _pgserver()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        log.info("starting embedded PostgreSQL in %s", self.data_dir)
        try:
            server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        except (OSError, subprocess.SubprocessError) as exc:
            raise EmbeddedPostgresError(
                f"embedded PostgreSQL in {self.data_dir} did not start: {exc}"
            ) from exc
        self._server = server
        try:
            self._ensure_database()
        except (OSError, subprocess.SubprocessError) as exc:
            self.stop()
            raise EmbeddedPostgresError(
                f"embedded PostgreSQL in {self.data_dir}: cannot create database "
                f"{self.database!r}: {exc}"
            ) from exc
        self._url = str(server.get_uri(self.database))
        return self._url

    def _ensure_database(self) -> None:
        present = self._server.psql(
            f"SELECT 'present' FROM pg_database WHERE datname = '{self.database}';"
        )
        if "present" not in present:
            self._server.psql(f'CREATE DATABASE "{self.database}";')
            log.info("created database %s in the embedded PostgreSQL", self.database)

    def stop(self) -> None:
        """Stop the server (unless another process of ours still uses the same directory)."""
        server, self._server, self._url = self._server, None, None
        if server is not None:
            log.info("stopping embedded PostgreSQL in %s", self.data_dir)
            server.cleanup()

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> EmbeddedPostgres:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


__all__ = ["EmbeddedPostgres", "EmbeddedPostgresError", "default_data_dir"]
