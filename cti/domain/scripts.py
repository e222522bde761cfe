"""Campaign scripts ("Script Dinâmico"): the steps an agent runs during a campaign call.

A script is an ordered list of steps. A step is guidance (text the agent reads out or follows) or
a question with an answer type (text, number, date, one of, several of, yes/no), required or not.
After a step comes the next one in order, unless the step says where to go: ``next`` (always) or,
for a one-of or yes/no question, ``branches`` (the next step chosen by the answer); ``"end"``
ends the script. A script never loops: every path reaches its end.

Scripts are versioned: each change makes a new version, and answers keep the version they were
given on. These are pure rules: parsing a script's body, and checking a set of answers against
it (the path the answers take, what is required on it, each answer's type).

Personal data: a question is ``personal`` unless whoever writes the script says it is not. The
answers are given by an identified person during their own call (a birth date, an income, a
health answer, whether they are happy with what they bought), so by default they are personal
data (LGPD art. 5 I; GDPR art. 4(1)) and protected by default (LGPD art. 46 §2; GDPR art. 25):
an admin unmarks a question whose answer says nothing about the person. The answers to personal
questions are masked (:data:`PersonalKind.ANSWER`) for users without the ``personal_data``
permission, like every other personal field; the counts of a survey are not (they are figures
over every attention, of no one in particular).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from cti.domain.backoffice import MASKED_ANSWER, PersonalKind, mask_record
from cti.domain.texts import _
from cti.errors import UserInputError

END = "end"
MAX_STEPS = 100
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class StepKind(StrEnum):
    GUIDANCE = "guidance"
    QUESTION = "question"


class AnswerType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    ONE_OF = "one_of"
    SEVERAL_OF = "several_of"
    YES_NO = "yes_no"


CHOICES = (AnswerType.ONE_OF, AnswerType.SEVERAL_OF)
BRANCHING = (AnswerType.ONE_OF, AnswerType.YES_NO)
YES_NO = ("yes", "no")

# What an answer is once checked: text, a number (as text, exactly as given), a date (ISO), the
# option chosen, the options chosen, or "yes"/"no".
Answer = str | list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One step of a script."""

    id: str
    kind: StepKind
    text: str
    type: AnswerType | None = None
    required: bool = False
    # Is its answer personal data (masked without the permission)? Personal unless unmarked.
    personal: bool = True
    options: tuple[str, ...] = ()
    next: str | None = None
    branches: Mapping[str, str] = field(default_factory=dict)

    def choices(self) -> tuple[str, ...]:
        """The answers a branching question may have."""
        return YES_NO if self.type is AnswerType.YES_NO else self.options


@dataclass(frozen=True, slots=True)
class Script:
    """A script's steps, in order."""

    steps: tuple[Step, ...]

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def after(self, step: Step, answer: Answer | None) -> str:
        """The id of the step after ``step`` given its ``answer`` (``END`` when none)."""
        if isinstance(answer, str) and answer in step.branches:
            return step.branches[answer]
        if step.next is not None:
            return step.next
        at = self.steps.index(step)
        return self.steps[at + 1].id if at + 1 < len(self.steps) else END


def _text(raw: Mapping[str, object], name: str, where: str, *, limit: int = 2000) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise UserInputError(f"{where}.{name}", _("must be a non-empty text"))
    if len(value) > limit:
        raise UserInputError(f"{where}.{name}", _("at most {limit} characters"), limit=limit)
    return value.strip()


def _step(raw: object, where: str) -> Step:
    if not isinstance(raw, Mapping):
        raise UserInputError(where, _("must be an object"))
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not _ID.match(step_id) or step_id == END:
        raise UserInputError(
            f"{where}.id", _("a short name: lower-case letters, digits and _, not 'end'")
        )
    try:
        kind = StepKind(str(raw.get("kind", StepKind.QUESTION)))
    except ValueError:
        raise UserInputError(f"{where}.kind", _("guidance or question")) from None
    text = _text(raw, "text", where)
    nxt = raw.get("next")
    if nxt is not None and not isinstance(nxt, str):
        raise UserInputError(f"{where}.next", _("a step's id, or 'end'"))
    if kind is StepKind.GUIDANCE:
        if raw.get("branches"):
            raise UserInputError(f"{where}.branches", _("only a question branches"))
        return Step(id=step_id, kind=kind, text=text, next=nxt)
    try:
        answer_type = AnswerType(str(raw.get("type", "")))
    except ValueError:
        raise UserInputError(
            f"{where}.type", _("one of {choices}"), choices=", ".join(t.value for t in AnswerType)
        ) from None
    options: tuple[str, ...] = ()
    if answer_type in CHOICES:
        raw_options = raw.get("options")
        if not isinstance(raw_options, Sequence) or isinstance(raw_options, str):
            raise UserInputError(f"{where}.options", _("a list of the answers to choose from"))
        options = tuple(str(o).strip() for o in raw_options if str(o).strip())
        if len(options) < 2 or len(set(options)) != len(options):
            raise UserInputError(f"{where}.options", _("at least two answers, each different"))
    personal = raw.get("personal", True)
    if not isinstance(personal, bool):
        raise UserInputError(f"{where}.personal", _("expected true or false"))
    branches_raw = raw.get("branches") or {}
    if not isinstance(branches_raw, Mapping):
        raise UserInputError(f"{where}.branches", _("an object: answer -> next step"))
    step = Step(
        id=step_id,
        kind=kind,
        text=text,
        type=answer_type,
        required=bool(raw.get("required", False)),
        personal=personal,
        options=options,
        next=nxt,
        branches={str(k): str(v) for k, v in branches_raw.items()},
    )
    if step.branches and answer_type not in BRANCHING:
        raise UserInputError(f"{where}.branches", _("only a one-of or yes/no question branches"))
    for answer in step.branches:
        if answer not in step.choices():
            raise UserInputError(
                f"{where}.branches", _("{answer!r} is not one of its answers"), answer=answer
            )
    return step


def parse_script(body: object) -> Script:
    """A script from its stored or submitted body (a list of steps). Raises UserInputError
    naming the step and field that is wrong: an unknown target, a loop, a bad answer type."""
    if not isinstance(body, Sequence) or isinstance(body, str) or not body:
        raise UserInputError("steps", _("a script has at least one step"))
    if len(body) > MAX_STEPS:
        raise UserInputError("steps", _("at most {count} steps"), count=MAX_STEPS)
    steps = tuple(_step(raw, f"steps[{i}]") for i, raw in enumerate(body))
    ids = [s.id for s in steps]
    for i, s in enumerate(steps):
        if ids.index(s.id) != i:
            raise UserInputError(f"steps[{i}].id", _("{id!r} is used by an earlier step"), id=s.id)
    known = set(ids) | {END}
    for i, s in enumerate(steps):
        for target in [s.next, *s.branches.values()]:
            if target is not None and target not in known:
                raise UserInputError(
                    f"steps[{i}]", _("goes to {target!r}, which is no step"), target=target
                )
    script = Script(steps)
    _check_no_loop(script)
    return script


def _check_no_loop(script: Script) -> None:
    """Every path ends: no step leads back to itself."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(step_id: str) -> None:
        if step_id == END or state.get(step_id) == 2:
            return
        if state.get(step_id) == 1:
            raise UserInputError(
                "steps", _("the script loops back to {step_id!r}"), step_id=step_id
            )
        state[step_id] = 1
        step = script.step(step_id)
        targets = {script.after(step, None), *step.branches.values()}
        for target in targets:
            visit(target)
        state[step_id] = 2

    visit(script.steps[0].id)


def _answer(step: Step, raw: object, where: str) -> Answer:
    t = step.type
    if t is AnswerType.SEVERAL_OF:
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise UserInputError(where, _("a list of its answers"))
        chosen = list(dict.fromkeys(raw))
        wrong = [x for x in chosen if x not in step.options]
        if wrong:
            raise UserInputError(where, _("{answer!r} is not one of its answers"), answer=wrong[0])
        return chosen
    if not isinstance(raw, str):
        raise UserInputError(where, _("a text"))
    value = raw.strip()
    if t is AnswerType.NUMBER:
        try:
            number = Decimal(value.replace(",", "."))
        except InvalidOperation:
            raise UserInputError(where, _("a number")) from None
        if not number.is_finite():
            raise UserInputError(where, _("a number"))
        return str(number)
    if t is AnswerType.DATE:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            raise UserInputError(where, _("a date (YYYY-MM-DD)")) from None
    if t in (AnswerType.ONE_OF, AnswerType.YES_NO) and value not in step.choices():
        raise UserInputError(where, _("one of {choices}"), choices=", ".join(step.choices()))
    if len(value) > 4000:
        raise UserInputError(where, _("at most 4000 characters"))
    return value


def _empty(raw: object) -> bool:
    return raw is None or raw in ("", [])


def check_answers(script: Script, answers: Mapping[str, object]) -> dict[str, Answer]:
    """The answers, checked and normalised, along the path they take through the script.

    Raises UserInputError naming ``answers.<step>``: a required question on the path left empty,
    an answer of the wrong type, or an answer to a step the path does not reach (or no step)."""
    known = {s.id for s in script.steps}
    for step_id in answers:
        if step_id not in known:
            raise UserInputError(f"answers.{step_id}", _("no such step in this script"))
    out: dict[str, Answer] = {}
    step_id = script.steps[0].id
    while step_id != END:
        step = script.step(step_id)
        raw = answers.get(step_id)
        answer: Answer | None = None
        if step.kind is StepKind.QUESTION:
            if _empty(raw):
                if step.required:
                    raise UserInputError(f"answers.{step_id}", _("is required"))
            else:
                answer = out[step_id] = _answer(step, raw, f"answers.{step_id}")
        step_id = script.after(step, answer)
    off_path = [k for k in answers if k not in out and not _empty(answers[k])]
    if off_path:
        raise UserInputError(
            f"answers.{off_path[0]}", _("not on the path these answers take through the script")
        )
    return out


def body_of(script: Script) -> list[dict[str, object]]:
    """A script as stored (the inverse of :func:`parse_script`)."""
    out: list[dict[str, object]] = []
    for s in script.steps:
        item: dict[str, object] = {"id": s.id, "kind": s.kind.value, "text": s.text}
        if s.kind is StepKind.QUESTION:
            assert s.type is not None
            item |= {"type": s.type.value, "required": s.required, "personal": s.personal}
            if s.options:
                item["options"] = list(s.options)
            if s.branches:
                item["branches"] = dict(s.branches)
        if s.next is not None:
            item["next"] = s.next
        out.append(item)
    return out


def answers_spec(script: Script) -> dict[str, PersonalKind]:
    """Which answers of ``script`` are personal: the spec that masks them (step id -> kind)."""
    return {
        s.id: PersonalKind.ANSWER
        for s in script.steps
        if s.kind is StepKind.QUESTION and s.personal
    }


def mask_answers(
    spec: Mapping[str, PersonalKind], answers: Mapping[str, Answer]
) -> dict[str, Answer]:
    """``answers`` as a reader without the permission sees them (``spec``: :func:`answers_spec`)."""
    masked = mask_record(answers, spec)
    return {k: v for k, v in masked.items() if isinstance(v, str | list)}


def keep_hidden(
    script: Script, given: Mapping[str, object], saved: Mapping[str, Answer]
) -> dict[str, object]:
    """The answers to save: where a reader who saw a personal answer masked sends it back as it
    was shown (``***``, untouched), the answer saved stands; every other answer is as given."""
    spec = answers_spec(script)
    return {
        k: saved[k] if v == MASKED_ANSWER and k in spec and k in saved else v
        for k, v in given.items()
    }


__all__ = [
    "END",
    "Answer",
    "AnswerType",
    "Script",
    "Step",
    "StepKind",
    "answers_spec",
    "body_of",
    "check_answers",
    "keep_hidden",
    "mask_answers",
    "parse_script",
]
