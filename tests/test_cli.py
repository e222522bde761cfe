"""The ``cti`` command as a user runs it: version, config mistakes, migrations, users, CSV import."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from cti import __version__
from cti.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's --version and usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


async def _tables(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        )
        return [r[0] for r in rows]
    finally:
        await conn.close()


async def _count(url: str, table: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"cti {__version__}"


def test_config_typo_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cti.toml"
    cfg.write_text("[server]\nprot = 8080\n")
    code, out, err = run(capsys, "--config", str(cfg), "serve")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"cti: config error: server.prot ({cfg}): unknown key; expected one of"
    )


def test_db_upgrade_downgrade_base_leaves_it_empty_and_upgrade_again_works(
    empty_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CTI_DATABASE__URL", empty_database)
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "database at revision" in out
    assert "attentions" in asyncio.run(_tables(empty_database))
    code, out, _ = run(capsys, "db", "downgrade", "base")
    assert code == 0 and out.strip() == "database at revision base"
    assert asyncio.run(_tables(empty_database)) == []
    code, _, _ = run(capsys, "db", "upgrade")
    assert code == 0
    assert "operators" in asyncio.run(_tables(empty_database))


def test_user_add_and_its_mistakes(
    migrated_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CTI_DATABASE__URL", migrated_database)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a-long-password\n"))
    code, out, err = run(
        capsys,
        "user",
        "add",
        "marta",
        "--role",
        "operator",
        "--routine",
        "collection",
        "--routine",
        "telesales",
        "--extension",
        "PJSIP/agent7",
        "--password-stdin",
    )
    assert code == 0, err
    assert "marta added" in out
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a-long-password\n"))
    code, _, err = run(capsys, "user", "add", "marta", "--role", "admin", "--password-stdin")
    assert code == 1
    assert "username" in err and "already exists" in err
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a-long-password\n"))
    code, _, err = run(capsys, "user", "add", "nuno", "--role", "operator", "--password-stdin")
    assert code == 1 and "routine" in err


def test_import_with_bad_rows_lists_each_and_stores_nothing(
    migrated_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CTI_DATABASE__URL", migrated_database)
    good = tmp_path / "customers.csv"
    good.write_text(
        "code,name,phones,region\nC1,Ana Lima,+55 11 91234-5678,BR\nC2,Bruno,(202) 555-0143,US\n"
    )
    code, out, err = run(capsys, "import", "customers", str(good))
    assert code == 0, err
    assert "2 customers stored" in out

    bad = tmp_path / "receivables.csv"
    bad.write_text(
        "customer_code,invoice_number,due_on,amount\n"
        "C1,INV-1,2026-01-10,100.00\n"
        "C9,INV-2,2026-01-10,50\n"
        "C2,INV-3,10/01/2026,-5\n"
    )
    code, out, err = run(capsys, "import", "receivables", str(bad))
    assert code == 1
    assert "nothing stored" in err
    assert "row 3: customer_code:" in err
    assert "row 4: due_on:" in err
    assert "row 4: amount:" in err
    assert "row 2" not in err
    assert asyncio.run(_count(migrated_database, "receivables")) == 0
    assert asyncio.run(_count(migrated_database, "customers")) == 2


def test_import_with_a_nul_names_its_row_and_field_without_a_traceback(
    migrated_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CTI_DATABASE__URL", migrated_database)
    bad = tmp_path / "customers.csv"
    bad.write_bytes(b"code,name,region\nC1,Ana Lima,BR\nC2,Bru\x00no,US\n")
    code, _, err = run(capsys, "import", "customers", str(bad))
    assert code == 1
    assert "Traceback" not in err and "\x00" not in err
    assert "row 3: name: contains a NUL character" in err
    assert asyncio.run(_count(migrated_database, "customers")) == 0
