"""Shared fixtures: a real PostgreSQL database per test run, created and dropped here.

The server is the one at ``CTI_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432/test``,
trust auth). When nothing answers there, the run starts a private PostgreSQL (the same embedded
server ``cti`` uses) in a temporary directory, so the suite also runs on a machine without one.
Each run makes its own databases, named ``cti_t_<pid>_<n>`` (``cti_m_`` for clones of the migrated
template), drops each one in the background once its test is over, and waits for the last drops
at the end of the run.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

ADMIN_URL = os.environ.get("CTI_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
# Every JSON answer of every test is checked against the model its route documents.
os.environ["CTI_CHECK_ANSWERS"] = "1"
_EMBEDDED: list[object] = []
# pgserver logs from its atexit hook, after pytest has closed the captured streams.
logging.getLogger("pgserver").setLevel(logging.WARNING)
_RESOLVED: list[str] = []
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TRANSCRIPTS = SHARED / "ami-transcripts"
_counter = itertools.count()


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


async def _reachable(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def admin_url() -> str:
    """The maintenance URL of the test server (call outside a running event loop)."""
    if not _RESOLVED:
        url = ADMIN_URL
        if not asyncio.run(_reachable(url)):
            import tempfile

            import pgserver

            root = tempfile.mkdtemp(prefix="cti-test-pg-")
            server = pgserver.get_server(root, cleanup_mode="delete")
            _EMBEDDED.append(server)
            url = server.get_uri()
        _RESOLVED.append(url)
    return _RESOLVED[0]


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_database() -> str:
    """A new empty database; returns its URL (``postgresql://…``)."""
    name = f"cti_t_{os.getpid()}_{next(_counter)}"
    url = admin_url()
    asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
    return _with_db(url, name)


class _Dropper:
    """Drops finished test databases on a background thread, one at a time.

    Every ``DROP DATABASE`` waits for a checkpoint, and a checkpoint syncs every file written
    since the last one (a cloned database is hundreds of files). On a busy disk that took two
    minutes once, inside a test's teardown, and the test timed out. Here no test waits for a
    drop; ``pytest_sessionfinish`` (outside any test's timeout) waits for the last ones.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._asked: set[str] = set()
        self.failures: list[str] = []

    def drop(self, url: str) -> None:
        if url in self._asked:
            return
        self._asked.add(url)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="drop-test-dbs", daemon=True)
            self._thread.start()
        self._queue.put(url)

    def _run(self) -> None:
        admin = admin_url()
        while (url := self._queue.get()) is not None:
            name = _db_name(url)
            try:
                asyncio.run(_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception as exc:  # reported at the end; the run's result does not depend on it
                self.failures.append(f"{name}: {exc}")

    def finish(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None


_DROPPER = _Dropper()


def drop_database(url: str) -> None:
    """Drop a test database soon, without waiting for it."""
    _DROPPER.drop(url)


def drop_databases(urls: list[str]) -> None:
    for url in urls:
        _DROPPER.drop(url)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _DROPPER.finish()
    for failure in _DROPPER.failures:
        print(f"\nwarning: a test database could not be dropped: {failure}")


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A fresh, empty database for one test (no schema)."""
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def database_factory() -> Iterator[Callable[[], str]]:
    """Make empty databases on demand; all are dropped when the run ends."""
    made: list[str] = []

    def make() -> str:
        url = create_database()
        made.append(url)
        return url

    yield make
    drop_databases(made)


@pytest.fixture(scope="session")
def transcripts_dir() -> Path:
    """The real Asterisk 22 captures in ``../shared/ami-transcripts``."""
    assert TRANSCRIPTS.is_dir(), f"captures not found at {TRANSCRIPTS}"
    return TRANSCRIPTS


# --- migrated databases (schema at the newest revision), cloned from one template per run -------

_clones = itertools.count()


@pytest.fixture(scope="session")
def migrated_template(database_factory: Callable[[], str]) -> str:
    """The URL of a database migrated to head; never connect to it (it is cloned)."""
    from cti.db import migrate

    url = database_factory()
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def migrated_database_factory(migrated_template: str) -> Iterator[Callable[[], str]]:
    """Make fresh databases at the newest revision on demand (``CREATE DATABASE … TEMPLATE``)."""
    template = _db_name(migrated_template)
    made: list[str] = []

    def make() -> str:
        name = f"cti_m_{os.getpid()}_{next(_clones)}"
        url = admin_url()
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}"'))
        asyncio.run(_admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        clone = _with_db(migrated_template, name)
        made.append(clone)
        return clone

    yield make
    drop_databases(made)


@pytest.fixture
def migrated_database(migrated_database_factory: Callable[[], str]) -> Iterator[str]:
    """A fresh database at the newest revision, for one test (dropped once the test is over)."""
    url = migrated_database_factory()
    yield url
    drop_database(url)
