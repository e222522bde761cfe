"""Campaign scripts: kept by admins, versioned, run by agents during campaign calls.

A script's current steps are in ``scripts.body``; every version (the first included) is in
``script_versions``, and the answers an agent gave during an attention point at the version they
were given on, so a later edit never changes them. The rules (a script's shape, the answers'
path and types) are :mod:`cti.domain.scripts`; this module reads and writes the rows.

The answers to a question marked personal are personal data of the attention's party: whatever
shows them (the desk's script, a campaign's survey and its CSV) reads them here, masked unless the
viewer may see personal data, and writes the audit line of that read
(:mod:`cti.db.backoffice.personal`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cti.db.audit import audit_in
from cti.db.backoffice.personal import (
    MASKED,
    READ,
    Viewer,
    may_see_personal,
    read_rows,
    write_reads,
)
from cti.db.engine import Database
from cti.db.models import Attention, Campaign, Operator, Script, ScriptAnswers, ScriptVersion
from cti.domain.backoffice import PersonalKind, personal_keys
from cti.domain.scripts import (
    Answer,
    AnswerType,
    StepKind,
    answers_spec,
    body_of,
    check_answers,
    keep_hidden,
    mask_answers,
    parse_script,
)
from cti.errors import NotFound, UserInputError
from cti.i18n import _

# A step as stored: what body_of writes (ids, texts, types, options, branches).
Steps = list[dict[str, object]]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptRow:
    """A script and the steps of its current version."""

    id: int
    name: str
    version: int
    steps: Steps
    campaigns: list[str]
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class AttentionScript:
    """The script an attention runs: the version (the one its answers were given on, else the
    current one), its steps, and the answers saved so far (empty: none yet)."""

    attention_id: int
    script_id: int
    name: str
    version: int
    steps: Steps
    answers: dict[str, Answer]
    saved_at: datetime | None
    masked: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionCount:
    """How a question was answered across a campaign's attentions, for one script version."""

    version: int
    step: str
    text: str
    type: str
    personal: bool
    answered: int
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerLine:
    """One attention's answers (the CSV export's rows)."""

    attention_id: int
    saved_at: datetime
    operator: str | None
    version: int
    answers: dict[str, Answer]


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptReport:
    campaign_id: int
    campaign: str
    script: str | None
    questions: list[QuestionCount]
    attentions: int
    lines: list[AnswerLine]
    masked: bool = False


async def _row(s: AsyncSession, script: Script) -> ScriptRow:
    used = await s.scalars(
        sa.select(Campaign.name).where(Campaign.script_id == script.id).order_by(Campaign.name)
    )
    return ScriptRow(
        id=script.id,
        name=script.name,
        version=script.version,
        steps=list(script.body),
        campaigns=list(used),
        updated_at=script.updated_at,
    )


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise UserInputError("name", _("a name of 1 to 200 characters"))
    return name


async def list_scripts(db: Database) -> list[ScriptRow]:
    async with db.sessions() as s:
        scripts = (await s.scalars(sa.select(Script).order_by(Script.name))).all()
        return [await _row(s, x) for x in scripts]


async def get_script(db: Database, script_id: int) -> ScriptRow:
    """One script. Raises NotFound."""
    async with db.sessions() as s:
        script = await s.get(Script, script_id)
        if script is None:
            raise NotFound(_("script"), script_id)
        return await _row(s, script)


async def create_script(db: Database, viewer: Viewer, *, name: str, steps: object) -> ScriptRow:
    """A new script (its version 1). Raises UserInputError naming what is wrong."""
    body = body_of(parse_script(steps))
    try:
        async with db.sessions.begin() as s:
            script = Script(name=_name(name), body=body, version=1)
            s.add(script)
            await s.flush()
            s.add(
                ScriptVersion(script_id=script.id, version=1, body=body, created_by=viewer.username)
            )
            await audit_in(
                s, viewer.username, "script.created", f"script:{script.id}", {"version": 1}
            )
            await s.flush()
            await s.refresh(script)
            return await _row(s, script)
    except IntegrityError:
        raise UserInputError(
            "name", _("a script named {name!r} exists"), name=name.strip()
        ) from None


async def update_script(
    db: Database, viewer: Viewer, script_id: int, *, name: str | None, steps: object | None
) -> ScriptRow:
    """Rename a script or give it new steps (a new version: answers given on the earlier ones
    keep theirs). Raises NotFound, UserInputError."""
    body = None if steps is None else body_of(parse_script(steps))
    try:
        async with db.sessions.begin() as s:
            script = await s.get(Script, script_id, with_for_update=True)
            if script is None:
                raise NotFound(_("script"), script_id)
            if name is not None:
                script.name = _name(name)
            if body is not None and body != script.body:
                script.version += 1
                script.body = body
                s.add(
                    ScriptVersion(
                        script_id=script.id,
                        version=script.version,
                        body=body,
                        created_by=viewer.username,
                    )
                )
            await audit_in(
                s,
                viewer.username,
                "script.changed",
                f"script:{script.id}",
                {"version": script.version, "renamed": name is not None},
            )
            await s.flush()
            await s.refresh(script)
            return await _row(s, script)
    except IntegrityError:
        raise UserInputError(
            "name", _("a script named {name!r} exists"), name=(name or "").strip()
        ) from None


async def _attention_script(
    s: AsyncSession, attention_id: int
) -> tuple[Attention, ScriptVersion, str, ScriptAnswers | None]:
    attention = await s.get(Attention, attention_id)
    if attention is None:
        raise NotFound(_("attention"), attention_id)
    saved = await s.scalar(
        sa.select(ScriptAnswers).where(ScriptAnswers.attention_id == attention_id)
    )
    if saved is not None:
        version = await s.get(ScriptVersion, saved.script_version_id)
        assert version is not None
    else:
        campaign = await s.get(Campaign, attention.campaign_id) if attention.campaign_id else None
        if campaign is None or campaign.script_id is None:
            raise NotFound(_("campaign script of attention"), attention_id)
        script = await s.get(Script, campaign.script_id)
        assert script is not None
        version = await s.scalar(
            sa.select(ScriptVersion).where(
                ScriptVersion.script_id == script.id, ScriptVersion.version == script.version
            )
        )
        assert version is not None
    name = await s.scalar(sa.select(Script.name).where(Script.id == version.script_id))
    return attention, version, name or "", saved


def party(attention: Attention) -> str:
    """Whose answers these are, as the audit log names them (the attention's party)."""
    for kind, ident in (
        ("customer", attention.customer_id),
        ("contact", attention.contact_id),
        ("suspect", attention.suspect_id),
        ("prospect", attention.prospect_id),
        ("lead", attention.lead_id),
    ):
        if ident is not None:
            return f"{kind}:{ident}"
    return f"attention:{attention.id}"


async def _shown(
    s: AsyncSession,
    viewer: Viewer,
    found: tuple[Attention, ScriptVersion, str, ScriptAnswers | None],
) -> AttentionScript:
    """An attention's script as ``viewer`` may see it: the answers to personal questions masked
    without the permission; the read audited (inside the caller's transaction)."""
    attention, version, name, saved = found
    answers: dict[str, Answer] = dict(saved.answers) if saved is not None else {}
    spec = {"answers": answers_spec(parse_script(version.body))}
    record = {"answers": answers}
    allowed = await may_see_personal(s, viewer.id)
    part = (party(attention), record, spec)
    await write_reads(s, read_rows(viewer, [part], allowed=allowed, purpose="campaign script"))
    shown = answers if allowed else mask_answers(spec["answers"], answers)
    return AttentionScript(
        attention_id=attention.id,
        script_id=version.script_id,
        name=name,
        version=version.version,
        steps=list(version.body),
        answers=shown,
        saved_at=saved.saved_at if saved is not None else None,
        masked=not allowed,
    )


async def attention_owner(db: Database, attention_id: int) -> int | None:
    """The operator an attention is assigned to. Raises NotFound."""
    async with db.sessions() as s:
        found = (
            await s.execute(sa.select(Attention.operator_id).where(Attention.id == attention_id))
        ).first()
    if found is None:
        raise NotFound(_("attention"), attention_id)
    return found[0]


async def script_for_attention(db: Database, attention_id: int, viewer: Viewer) -> AttentionScript:
    """The script of an attention's campaign with its answers as ``viewer`` may see them (the
    read audited). Raises NotFound (no such attention, or its campaign has no script)."""
    async with db.sessions.begin() as s:
        return await _shown(s, viewer, await _attention_script(s, attention_id))


async def save_answers(
    db: Database, attention_id: int, viewer: Viewer, *, answers: dict[str, object]
) -> AttentionScript:
    """Save (or replace) an attention's answers, checked against the version they are given on;
    an answer to a personal question sent back masked, as it was shown, keeps the one saved.
    Answers as :func:`script_for_attention`. Raises NotFound, UserInputError naming the answer
    that is wrong."""
    async with db.sessions.begin() as s:
        attention, version, name, before = await _attention_script(s, attention_id)
        script = parse_script(version.body)
        given = keep_hidden(script, answers, dict(before.answers) if before is not None else {})
        checked = check_answers(script, given)
        stmt = pg_insert(ScriptAnswers).values(
            attention_id=attention_id,
            script_version_id=version.id,
            campaign_id=attention.campaign_id,
            operator_id=viewer.id,
            answers=checked,
            saved_at=sa.func.now(),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[ScriptAnswers.attention_id],
            set_={
                "answers": stmt.excluded.answers,
                "operator_id": stmt.excluded.operator_id,
                "saved_at": stmt.excluded.saved_at,
            },
        )
        await s.execute(stmt)
        saved = await s.scalar(
            sa.select(ScriptAnswers)
            .where(ScriptAnswers.attention_id == attention_id)
            .execution_options(populate_existing=True)
        )
        return await _shown(s, viewer, (attention, version, name, saved))


def _counts(versions: dict[int, ScriptVersion], lines: list[AnswerLine]) -> list[QuestionCount]:
    """Per version and question: how many answered and, for the questions with choices, how
    often each answer was given (figures over every attention: never masked)."""
    questions: list[QuestionCount] = []
    for number in sorted(versions):
        steps = parse_script(versions[number].body).steps
        given = [line.answers for line in lines if line.version == number]
        for step in steps:
            if step.kind is not StepKind.QUESTION or step.type is None:
                continue
            values = [a[step.id] for a in given if step.id in a]
            counts: Counter[str] = Counter()
            if step.type in (AnswerType.ONE_OF, AnswerType.YES_NO, AnswerType.SEVERAL_OF):
                counts.update({c: 0 for c in step.choices()})
                for value in values:
                    counts.update([value] if isinstance(value, str) else value)
            questions.append(
                QuestionCount(
                    version=number,
                    step=step.id,
                    text=step.text,
                    type=step.type.value,
                    personal=step.personal,
                    answered=len(values),
                    counts=dict(counts),
                )
            )
    return questions


def _report_read(
    viewer: Viewer,
    campaign_id: int,
    specs: dict[int, dict[str, PersonalKind]],
    lines: list[AnswerLine],
    *,
    allowed: bool,
    purpose: str,
) -> list[dict[str, object]]:
    """The audit line of reading a survey's answer lines: one for the report, naming the
    personal answers it shows (never their values) and how many attentions' answers."""
    fields: set[str] = set()
    shown = 0
    for line in lines:
        found = personal_keys({"answers": line.answers}, {"answers": specs[line.version]})
        fields.update(found)
        shown += bool(found)
    if not fields:
        return []
    return [
        {
            "actor": viewer.username,
            "action": READ if allowed else MASKED,
            "subject": f"script-report:{campaign_id}",
            "details": {"purpose": purpose, "fields": sorted(fields), "attentions": shown},
        }
    ]


async def script_report(
    db: Database,
    campaign_id: int,
    viewer: Viewer,
    *,
    purpose: str,
    last: int | None = None,
) -> ScriptReport:
    """How a campaign's script was answered: per version and question, how many answered and,
    for the questions with choices, how often each answer was given; and each attention's
    answers (the ``last`` ones only, when given), the personal ones masked unless ``viewer`` may
    see them, the read audited with ``purpose``. Raises NotFound."""
    async with db.sessions.begin() as s:
        campaign = await s.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(_("campaign"), campaign_id)
        script = await s.get(Script, campaign.script_id) if campaign.script_id else None
        rows = (
            await s.execute(
                sa.select(ScriptAnswers, ScriptVersion, Operator.full_name, Operator.username)
                .join(ScriptVersion, ScriptVersion.id == ScriptAnswers.script_version_id)
                .outerjoin(Operator, Operator.id == ScriptAnswers.operator_id)
                .where(ScriptAnswers.campaign_id == campaign_id)
                .order_by(ScriptAnswers.saved_at, ScriptAnswers.id)
            )
        ).all()
        versions: dict[int, ScriptVersion] = {}
        lines: list[AnswerLine] = []
        for saved, version, full_name, username in rows:
            versions[version.version] = version
            lines.append(
                AnswerLine(
                    attention_id=saved.attention_id,
                    saved_at=saved.saved_at,
                    operator=full_name or username,
                    version=version.version,
                    answers=dict(saved.answers),
                )
            )
        questions = _counts(versions, lines)
        shown = lines if last is None else lines[len(lines) - last :] if last > 0 else []
        specs = {n: answers_spec(parse_script(v.body)) for n, v in versions.items()}
        allowed = await may_see_personal(s, viewer.id)
        audit = _report_read(viewer, campaign_id, specs, shown, allowed=allowed, purpose=purpose)
        await write_reads(s, audit)
    if not allowed:
        shown = [
            dataclasses.replace(line, answers=mask_answers(specs[line.version], line.answers))
            for line in shown
        ]
    return ScriptReport(
        campaign_id=campaign_id,
        campaign=campaign.name,
        script=script.name if script is not None else None,
        questions=questions,
        attentions=len(lines),
        lines=shown,
        masked=not allowed,
    )


__all__ = [
    "AnswerLine",
    "AttentionScript",
    "QuestionCount",
    "ScriptReport",
    "ScriptRow",
    "create_script",
    "get_script",
    "list_scripts",
    "party",
    "save_answers",
    "script_for_attention",
    "script_report",
    "update_script",
]
