"""The ``cti`` command."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from cti import __version__
from cti.config import Settings, load_settings
from cti.errors import CTIError
from cti.logs import setup_logging

log = logging.getLogger("cti")

DEMO_CURRENCY = {"en": "USD", "pt-BR": "BRL", "es": "EUR"}

IMPORT_KINDS = ("customers", "contacts", "receivables", "leads")
ROLES = ("operator", "supervisor", "admin")
ROUTINES = ("telemarketing", "telesales", "collection")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cti",
        description="cti: a computer-telephony server for call centers (Asterisk AMI, screen-pops, "
        "predictive dialer, supervisor wallboard).",
    )
    p.add_argument("--version", action="version", version=f"cti {__version__}")
    p.add_argument(
        "--config", metavar="FILE", help="settings file (TOML) over the defaults in config/cti.toml"
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser("serve", help="run pending migrations, then the service")
    demo = sub.add_parser(
        "demo", help="the whole product on one machine: embedded DB, PBX simulator, demo data"
    )
    demo.add_argument("--port", type=int, help="web port (default: server.port)")
    demo.add_argument(
        "--language",
        choices=("en", "pt-BR", "es"),
        help="the demo's data, the pages' default language and its currency (default: the settings)",
    )

    db = sub.add_parser("db", help="database schema migrations")
    dbsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser("upgrade", help="migrate to a revision (default: the latest)")
    up.add_argument("revision", nargs="?", default="head")
    down = dbsub.add_parser("downgrade", help="migrate back to REV ('base' empties the database)")
    down.add_argument("revision")
    dbsub.add_parser("current", help="print the database's revision")

    user = sub.add_parser("user", help="manage users")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", help="add an operator, supervisor or admin")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument(
        "--routine",
        action="append",
        choices=ROUTINES,
        default=[],
        help="a routine (skill) the operator holds; repeat for several",
    )
    add.add_argument("--group", help="attention group (holds the ideal talk time)")
    add.add_argument("--extension", help="the user's phone interface, e.g. PJSIP/agent1")
    add.add_argument("--full-name")
    add.add_argument(
        "--personal-data",
        action="store_true",
        help="may see personal data (names, phones, tax ids) unmasked",
    )
    add.add_argument(
        "--softphone",
        action="store_true",
        help="their phone is the desk's softphone (WebRTC): cti issues its SIP account",
    )
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    imp = sub.add_parser("import", help="import a CSV file; a file with any bad row stores nothing")
    imp.add_argument("kind", choices=IMPORT_KINDS)
    imp.add_argument("file", type=Path)
    imp.add_argument("--campaign", help="campaign name (for leads)")
    return p


@asynccontextmanager
async def _database_url(settings: Settings) -> AsyncIterator[str]:
    from cti.app import embedded_or_configured_database

    async with embedded_or_configured_database(settings) as url:
        yield url


async def _db_command(settings: Settings, args: argparse.Namespace) -> int:
    from cti.db import migrate

    async with _database_url(settings) as url:
        if args.db_command == "upgrade":
            await asyncio.to_thread(migrate.upgrade, url, args.revision)
            print(f"database at revision {await asyncio.to_thread(migrate.current, url)}")
        elif args.db_command == "downgrade":
            await asyncio.to_thread(migrate.downgrade, url, args.revision)
            print(f"database at revision {await asyncio.to_thread(migrate.current, url) or 'base'}")
        else:
            print(await asyncio.to_thread(migrate.current, url) or "base")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.username}: ")
    second = getpass.getpass("again: ")
    if first != second:
        raise CTIError("the two passwords differ")
    return first


async def _user_add(settings: Settings, args: argparse.Namespace) -> int:
    from cti.db import migrate
    from cti.db.engine import Database
    from cti.db.users import add_user

    password = _read_password(args)
    async with _database_url(settings) as url:
        await asyncio.to_thread(migrate.upgrade, url)
        async with Database(url) as db:
            await add_user(
                db,
                username=args.username,
                password=password,
                role=args.role,
                routines=args.routine,
                group=args.group,
                extension=args.extension,
                full_name=args.full_name,
                personal_data=args.personal_data,
                softphone=args.softphone,
            )
    print(f"user {args.username} added ({args.role})")
    return 0


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    from cti.db import migrate
    from cti.db.engine import Database
    from cti.db.imports import ImportRejected, import_csv

    async with _database_url(settings) as url:
        await asyncio.to_thread(migrate.upgrade, url)
        async with Database(url) as db:
            assumed: list[str] = []
            try:
                stored = await import_csv(
                    db,
                    args.kind,
                    args.file,
                    region=settings.telephony.default_region,
                    campaign=args.campaign,
                    assumed=assumed,
                )
            except ImportRejected as exc:
                print(f"cti: {args.file}: rejected, nothing stored: {exc}", file=sys.stderr)
                for err in exc.errors:
                    print(f"  row {err.row}: {err.field}: {err.reason}", file=sys.stderr)
                return 1
    print(f"{args.file}: {stored} {args.kind} stored")
    for note in assumed:
        print(f"  {note}")
    return 0


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from cti.demo import run_demo

    if args.language:
        # The demo of a language counts money as its country does (reais, euros, dollars).
        currency = DEMO_CURRENCY[args.language]
        server = dataclasses.replace(settings.server, language=args.language, currency=currency)
        settings = dataclasses.replace(settings, server=server)
    await run_demo(settings, port=args.port)
    return 0


async def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from cti.app import serve

    await serve(settings)
    return 0


_COMMANDS = {
    "serve": _serve,
    "demo": _demo,
    "db": _db_command,
    "user": _user_add,
    "import": _import,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cti`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except CTIError as exc:
        print(f"cti: config error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.logging.level)
    try:
        return asyncio.run(_COMMANDS[args.command](settings, args))
    except KeyboardInterrupt:
        return 130
    except CTIError as exc:
        print(f"cti: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
