"""The migrations build the schema the models describe, and undo it completely."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from cti.db import migrate
from cti.db.engine import Database
from cti.db.models import Base
from cti.domain.scripts import AnswerType, parse_script


async def _our_objects(url: str) -> dict[str, list[str]]:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'S', 'i', 'p')"
        )
        types = await conn.fetch(
            "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c')"
            " AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.reltype = t.oid)"
        )
        functions = await conn.fetch(
            "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public'"
        )
        triggers = await conn.fetch("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    finally:
        await conn.close()
    return {
        "tables": sorted(r[0] for r in tables),
        "types": sorted(r[0] for r in types),
        "functions": sorted(r[0] for r in functions),
        "triggers": sorted(r[0] for r in triggers),
    }


def test_upgrade_downgrade_base_upgrade(empty_database: str) -> None:
    assert migrate.current(empty_database) is None

    migrate.upgrade(empty_database)
    assert migrate.current(empty_database) == migrate.head()
    built = asyncio.run(_our_objects(empty_database))
    assert set(Base.metadata.tables) <= set(built["tables"])
    assert "cti_touch" in built["functions"]
    assert "attention_notes_append_only" in built["triggers"]

    migrate.downgrade(empty_database, "base")
    assert migrate.current(empty_database) is None
    left = asyncio.run(_our_objects(empty_database))
    assert left == {"tables": [], "types": [], "functions": [], "triggers": []}

    migrate.upgrade(empty_database)
    assert migrate.current(empty_database) == migrate.head()
    again = asyncio.run(_our_objects(empty_database))
    assert again == built


def test_upgrade_twice_is_a_no_op(migrated_database: str) -> None:
    migrate.upgrade(migrated_database)
    assert migrate.current(migrated_database) == migrate.head()


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_models_match_the_migration(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_async_variants_run_from_a_running_loop(empty_database: str) -> None:
    await migrate.upgrade_async(empty_database)
    assert await migrate.current_async(empty_database) == migrate.head()
    await migrate.downgrade_async(empty_database, "base")
    assert await migrate.current_async(empty_database) is None


def test_two_processes_upgrading_at_once_take_turns(empty_database: str) -> None:
    code = "import sys; from cti.db import migrate; migrate.upgrade(sys.argv[1])"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, empty_database], stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    errors = [p.communicate(timeout=60)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    assert migrate.current(empty_database) == migrate.head()


def test_threads_of_one_process_take_turns(empty_database: str) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: migrate.upgrade(empty_database), range(2)))
    assert migrate.current(empty_database) == migrate.head()


class _NoJobs:
    async def run_job(self, kind: str, ref: str) -> None:
        raise AssertionError(f"no job should run here ({kind}:{ref})")


async def test_downgrade_base_after_the_scheduler_ran_leaves_nothing(empty_database: str) -> None:
    from datetime import UTC, datetime, timedelta

    from cti.clock import SystemClock
    from cti.dialer.scheduler import DialerScheduler

    await migrate.upgrade_async(empty_database)
    async with Database(empty_database, pool_size=2) as database:
        scheduler = DialerScheduler(
            database, empty_database, _NoJobs(), clock=SystemClock(), upkeep_seconds=3600
        )
        await scheduler.start()
        try:
            await scheduler.at("wake", "1", datetime.now(UTC) + timedelta(days=1))
            assert {job for job, _ in await scheduler.jobs()} >= {"upkeep", "wake:1"}
        finally:
            await scheduler.stop()
        async with database.engine.connect() as conn:
            stored = (await conn.exec_driver_sql("SELECT count(*) FROM cti_dialer_jobs")).scalar()
        assert stored == 3  # upkeep, break_overdue, wake:1
    await migrate.downgrade_async(empty_database, "base")
    left = await _our_objects(empty_database)
    assert left == {"tables": [], "types": [], "functions": [], "triggers": []}


async def test_0003_moves_zone_amd_and_knobs_onto_the_campaign(empty_database: str) -> None:
    await migrate.upgrade_async(empty_database, "0002")
    conn = await asyncpg.connect(empty_database)
    try:
        await conn.execute(
            "INSERT INTO campaigns (name, kind, mode, queue, retry_rules) VALUES"
            " ('A', 'telesales', 'predictive', 'sales',"
            ' \'{"max_attempts": 3, "timezone": "America/Lima", "amd": true}\'),'
            " ('B', 'telesales', 'predictive', 'sales', '{}')"
        )
        await conn.execute(
            "INSERT INTO audit_log (actor, action, subject, details) VALUES"
            " ('sofia', 'campaign.pacing', 'campaign:1', '{\"knobs\": {\"max_dial_ratio\": 2.0}}'),"
            " ('sofia', 'campaign.pacing', 'campaign:1', '{\"knobs\": {\"max_dial_ratio\": 2.5}}')"
        )
        await migrate.upgrade_async(empty_database)
        rows = await conn.fetch(
            "SELECT name, timezone, amd, pacing::text, retry_rules::text FROM campaigns ORDER BY id"
        )
        assert [tuple(r) for r in rows] == [
            ("A", "America/Lima", True, '{"max_dial_ratio": 2.5}', '{"max_attempts": 3}'),
            ("B", None, False, "{}", "{}"),
        ]
        await migrate.downgrade_async(empty_database, "0002")
        back = await conn.fetchval("SELECT retry_rules FROM campaigns WHERE name = 'A'")
        assert '"amd": true' in back and '"timezone": "America/Lima"' in back
    finally:
        await conn.close()


async def test_0004_gives_a_new_install_pause_reasons_and_leaves_an_old_ones_own(
    empty_database: str, database_factory: Callable[[], str]
) -> None:
    await migrate.upgrade_async(empty_database)
    conn = await asyncpg.connect(empty_database)
    try:
        fresh = {r[0] for r in await conn.fetch("SELECT name FROM pause_reasons")}
    finally:
        await conn.close()
    assert fresh == {"lunch", "break", "training", "backoffice"}

    own = await asyncio.to_thread(database_factory)
    await migrate.upgrade_async(own, "0003")
    conn = await asyncpg.connect(own)
    try:
        await conn.execute("INSERT INTO pause_reasons (name) VALUES ('almuerzo')")
        await migrate.upgrade_async(own)
        kept = [r[0] for r in await conn.fetch("SELECT name FROM pause_reasons")]
    finally:
        await conn.close()
    assert kept == ["almuerzo"]


async def test_0013_gives_each_script_its_first_version_in_todays_shape(
    empty_database: str,
) -> None:
    await migrate.upgrade_async(empty_database, "0012")
    conn = await asyncpg.connect(empty_database)
    try:
        await conn.execute(
            "INSERT INTO scripts (name, body) VALUES ('Old', '["
            '{"step": 1, "say": "Greet."},'
            ' {"step": 2, "ask": "Happy?", "options": ["yes", "no"]},'
            ' {"step": 3, "ask": "Which?", "options": ["a", "b"]}'
            "]')"
        )
        await migrate.upgrade_async(empty_database)
        body = await conn.fetchval("SELECT body::text FROM scripts WHERE name = 'Old'")
        first = await conn.fetchrow("SELECT version, body::text AS body FROM script_versions")
        assert first is not None and first["version"] == 1 and first["body"] == body
        steps = parse_script(json.loads(body)).steps
        assert [(s.id, s.kind.value, s.type) for s in steps] == [
            ("step1", "guidance", None),
            ("step2", "question", AnswerType.YES_NO),
            ("step3", "question", AnswerType.ONE_OF),
        ]
    finally:
        await conn.close()


async def test_0014_keeps_free_text_attentions_readable_and_downgrades_with_tickets(
    empty_database: str,
) -> None:
    await migrate.upgrade_async(empty_database, "0013")
    conn = await asyncpg.connect(empty_database)
    try:
        await conn.execute(
            "INSERT INTO attentions (kind, direction, subject, product, occurrence, action,"
            " action_status) VALUES ('telemarketing', 'inbound', 'Delivery delayed', 'Desk',"
            " 'Arrived damaged', 'Send a replacement', 'done')"
        )
        await migrate.upgrade_async(empty_database)
        row = await conn.fetchrow(
            "SELECT id, subject, product, occurrence, action, action_status FROM attentions"
        )
        assert row is not None
        assert tuple(row)[1:] == (
            "Delivery delayed",
            "Desk",
            "Arrived damaged",
            "Send a replacement",
            "done",
        )
        # A ticket with an item, its service order and non-conformity: 0014 goes down with them.
        await conn.execute("INSERT INTO ticket_subjects (name) VALUES ('Complaint')")
        await conn.execute(
            "INSERT INTO ticket_occurrences (subject_id, name) VALUES (1, 'Damaged')"
        )
        await conn.execute(
            "INSERT INTO ticket_actions (occurrence_id, name, sets_status) VALUES (1, 'Fix', 'done')"
        )
        await conn.execute(
            "INSERT INTO ticket_items (attention_id, seq, subject_id, occurrence_id, action_id)"
            " VALUES ($1, 1, 1, 1, 1)",
            row["id"],
        )
        await conn.execute(
            "INSERT INTO service_orders (number, ticket_item_id) VALUES ('OS-000001', 1)"
        )
        await conn.execute(
            "INSERT INTO nonconformities (attention_id, ticket_item_id, description, occurred_on)"
            " VALUES ($1, 1, 'Damaged', current_date)",
            row["id"],
        )
        await migrate.downgrade_async(empty_database, "0013")
        assert await migrate.current_async(empty_database) == "0013"
        left = await conn.fetchval("SELECT subject FROM attentions")
        assert left == "Delivery delayed"
        tables = await conn.fetchval(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'ticket%' OR relname IN"
            " ('service_orders', 'nonconformities')"
        )
        assert tables == 0
    finally:
        await conn.close()


async def test_0018_marks_every_script_question_personal_and_loses_nothing(
    empty_database: str,
) -> None:
    await migrate.upgrade_async(empty_database, "0017")
    conn = await asyncpg.connect(empty_database)
    try:
        body = json.dumps(
            [
                {"id": "hi", "kind": "guidance", "text": "Greet."},
                {"id": "born", "kind": "question", "text": "Born?", "type": "date"},
                {"id": "mood", "kind": "question", "text": "Mood?", "type": "text"},
            ]
        )
        sid = await conn.fetchval(
            "INSERT INTO scripts (name, body) VALUES ('Old', $1::jsonb) RETURNING id", body
        )
        vid = await conn.fetchval(
            "INSERT INTO script_versions (script_id, version, body) VALUES ($1, 1, $2::jsonb)"
            " RETURNING id",
            sid,
            body,
        )
        aid = await conn.fetchval(
            "INSERT INTO attentions (kind, direction) VALUES ('telesales', 'outbound') RETURNING id"
        )
        answers = json.dumps({"born": "1980-05-12", "mood": "fine"})
        await conn.execute(
            "INSERT INTO script_answers (attention_id, script_version_id, answers)"
            " VALUES ($1, $2, $3::jsonb)",
            aid,
            vid,
            answers,
        )
        touched = await conn.fetchval("SELECT updated_at FROM scripts")
        await migrate.upgrade_async(empty_database)
        for table in ("scripts", "script_versions"):
            steps = json.loads(await conn.fetchval(f"SELECT body::text FROM {table}"))
            assert [s.get("personal") for s in steps] == [None, True, True]
            assert [s["id"] for s in steps] == ["hi", "born", "mood"]
            assert parse_script(steps).steps[1].personal is True
        assert await conn.fetchval("SELECT updated_at FROM scripts") == touched
        kept = await conn.fetchval("SELECT answers::text FROM script_answers")
        assert json.loads(kept) == json.loads(answers)
        # An admin's choice survives going down and up again.
        await conn.execute(
            "UPDATE scripts SET body = jsonb_set(body, '{2,personal}', 'false'::jsonb)"
        )
        await migrate.downgrade_async(empty_database, "0017")
        await migrate.upgrade_async(empty_database)
        steps = json.loads(await conn.fetchval("SELECT body::text FROM scripts"))
        assert [s.get("personal") for s in steps] == [None, True, False]
    finally:
        await conn.close()
