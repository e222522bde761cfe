"""The layer rules of GUIDE §3, checked on every module's imports (migrations aside).

- ``cti/domain`` is pure: no I/O library, nothing of cti above it;
- SQLAlchemy is spoken only in ``cti/db``, which imports nothing above it;
- aiohttp only in ``cti/web`` and the composition root (``cti/app.py``);
- AMI (panoramisk) only in ``cti/ami``, which imports neither the database nor the web.
"""

from __future__ import annotations

import ast
from pathlib import Path

CTI = Path(__file__).resolve().parents[1] / "cti"
IO = ("asyncio", "socket", "sqlalchemy", "asyncpg", "psycopg", "aiohttp", "panoramisk")
IO += ("apscheduler", "websockets", "subprocess")

# (what, the modules it binds, the imports they may not have)
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("the domain is pure", ("cti/domain/",), IO),
    ("the domain imports nothing above it", ("cti/domain/",), ("cti.db", "cti.web", "cti.ami")),
    ("the domain imports nothing above it", ("cti/domain/",), ("cti.dialer", "cti.sim", "cti.app")),
    ("the database imports nothing above it", ("cti/db/",), ("cti.web", "cti.ami", "cti.dialer")),
    ("the database imports nothing above it", ("cti/db/",), ("cti.sim", "cti.app", "cti.runtime")),
    ("AMI imports neither the database nor the web", ("cti/ami/",), ("cti.db", "cti.web")),
]
# (library, the only modules that may import it)
ONLY_IN: list[tuple[str, tuple[str, ...]]] = [
    ("sqlalchemy", ("cti/db/",)),
    ("asyncpg", ("cti/db/",)),
    ("aiohttp", ("cti/web/", "cti/app.py")),
    ("panoramisk", ("cti/ami/",)),
]


def imports_of(root: Path) -> dict[str, set[str]]:
    """Every module under ``root`` (as ``cti/x/y.py``) and the absolute imports it makes."""
    found: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[path.relative_to(root.parent).as_posix()] = names
    return found


def _is(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def violations(modules: dict[str, set[str]]) -> list[str]:
    """What breaks the rules above, one line each."""
    out: list[str] = []
    for what, bound, forbidden in RULES:
        for module, names in modules.items():
            if module.startswith(bound):
                out += [
                    f"{module} imports {n}: {what}"
                    for n in sorted(names)
                    for f in forbidden
                    if _is(n, f)
                ]
    for library, allowed in ONLY_IN:
        for module, names in modules.items():
            if not module.startswith(allowed) and any(_is(n, library) for n in names):
                out.append(f"{module} imports {library}: only {', '.join(allowed)} may")
    return out


def test_every_layer_keeps_its_imports() -> None:
    modules = imports_of(CTI)
    assert "cti/domain/state.py" in modules and "cti/db/models.py" in modules
    assert violations(modules) == []


def test_a_broken_rule_is_named() -> None:
    forged = {
        "cti/domain/x.py": {"asyncio", "cti.db.models"},
        "cti/db/y.py": {"cti.dialer.service"},
        "cti/web/z.py": {"sqlalchemy.orm", "panoramisk"},
    }
    assert len(violations(forged)) == 5
