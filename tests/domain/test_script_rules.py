"""Campaign scripts: a script's body is checked (targets, loops, answer types) and a set of
answers is checked along the path it takes (required steps on it, types, nothing off it)."""

from __future__ import annotations

from typing import Any

import pytest

from cti.domain.backoffice import PersonalKind
from cti.domain.scripts import (
    answers_spec,
    body_of,
    check_answers,
    keep_hidden,
    mask_answers,
    parse_script,
)
from cti.errors import UserInputError

SURVEY: list[dict[str, Any]] = [
    {"id": "hello", "kind": "guidance", "text": "Introduce yourself and the campaign."},
    {
        "id": "customer",
        "text": "Are you a customer of ours?",
        "type": "yes_no",
        "required": True,
        "branches": {"no": "why_not"},
    },
    {"id": "score", "text": "How would you rate us (0-10)?", "type": "number", "required": True},
    {
        "id": "liked",
        "text": "What do you like?",
        "type": "several_of",
        "options": ["price", "service", "delivery"],
        "next": "end",
    },
    {
        "id": "why_not",
        "text": "Why not?",
        "type": "one_of",
        "options": ["price", "never heard of us"],
        "required": True,
    },
    {"id": "when", "text": "When may we call again?", "type": "date"},
]


def _refused(body: Any) -> str:
    with pytest.raises(UserInputError) as exc:
        parse_script(body)
    return exc.value.field


def test_the_branch_chosen_by_an_answer_decides_what_is_asked_and_required() -> None:
    script = parse_script(SURVEY)
    yes = check_answers(script, {"customer": "yes", "score": "9,5", "liked": ["service", "price"]})
    assert yes == {"customer": "yes", "score": "9.5", "liked": ["service", "price"]}
    no = check_answers(script, {"customer": "no", "why_not": "price", "when": "2026-12-20"})
    assert no == {"customer": "no", "why_not": "price", "when": "2026-12-20"}
    # The "no" branch requires its own question, not the other branch's.
    with pytest.raises(UserInputError) as exc:
        check_answers(script, {"customer": "no"})
    assert exc.value.field == "answers.why_not"
    # An answer to a step the path never reaches is refused, naming it.
    with pytest.raises(UserInputError) as exc:
        check_answers(script, {"customer": "yes", "score": "7", "why_not": "price"})
    assert exc.value.field == "answers.why_not"


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"customer": "maybe"}, "answers.customer"),
        ({"customer": "yes", "score": "lots"}, "answers.score"),
        ({"customer": "yes", "score": "1", "liked": ["speed"]}, "answers.liked"),
        ({"customer": "no", "why_not": "price", "when": "20/12/2026"}, "answers.when"),
        ({"customer": "yes"}, "answers.score"),
        ({"nobody": "x"}, "answers.nobody"),
    ],
)
def test_a_wrong_answer_is_named(answers: dict[str, Any], field: str) -> None:
    with pytest.raises(UserInputError) as exc:
        check_answers(parse_script(SURVEY), answers)
    assert exc.value.field == field


def test_a_bad_script_is_refused_naming_the_step() -> None:
    assert _refused([]) == "steps"
    assert _refused([{"id": "a", "text": "x", "type": "colour"}]) == "steps[0].type"
    assert _refused([{"id": "a", "text": "x", "type": "one_of", "options": ["x"]}]) == (
        "steps[0].options"
    )
    assert _refused([{"id": "a", "text": "x", "type": "text", "next": "b"}]) == "steps[0]"
    assert (
        _refused(
            [{"id": "a", "text": "x", "type": "text"}, {"id": "a", "text": "y", "type": "text"}]
        )
        == "steps[1].id"
    )
    assert (
        _refused([{"id": "a", "text": "x", "type": "yes_no", "branches": {"perhaps": "end"}}])
        == "steps[0].branches"
    )
    assert _refused([{"id": "a", "text": "x", "type": "number", "branches": {"1": "end"}}]) == (
        "steps[0].branches"
    )
    # A loop: b sends "yes" back to a.
    looping = [
        {"id": "a", "text": "x", "type": "text"},
        {"id": "b", "text": "y", "type": "yes_no", "branches": {"yes": "a"}},
    ]
    assert _refused(looping) == "steps"


def test_questions_are_personal_unless_unmarked_and_masked_whole() -> None:
    steps = [*SURVEY[:2], {**SURVEY[2], "personal": False}, *SURVEY[3:]]
    script = parse_script(steps)
    assert answers_spec(script) == {
        "customer": PersonalKind.ANSWER,
        "liked": PersonalKind.ANSWER,
        "why_not": PersonalKind.ANSWER,
        "when": PersonalKind.ANSWER,
    }
    # The flag is kept as written: every question says it, guidance never does.
    stored = body_of(script)
    assert [s.get("personal") for s in stored] == [None, True, False, True, True, True]
    assert parse_script(stored) == script
    with pytest.raises(UserInputError) as refused:
        parse_script([{**SURVEY[1], "personal": "yes"}])
    assert refused.value.field == "steps[0].personal"
    # Masked whole: neither a "yes" from a "no" nor how many options were chosen shows.
    answers = {"customer": "yes", "score": "9", "liked": ["price", "service"]}
    assert mask_answers(answers_spec(script), answers) == {
        "customer": "***",
        "score": "9",
        "liked": "***",
    }
    assert mask_answers(answers_spec(script), {"customer": "no"}) == {"customer": "***"}


def test_a_masked_answer_sent_back_keeps_the_saved_one() -> None:
    script = parse_script([*SURVEY[:2], {**SURVEY[2], "personal": False}, *SURVEY[3:]])
    saved = {"customer": "yes", "score": "9", "liked": ["price"]}
    given = {"customer": "***", "score": "***", "liked": "***", "when": "***"}
    # Personal and saved: kept; not personal, or nothing saved: as given (and then refused).
    assert keep_hidden(script, given, saved) == {
        "customer": "yes",
        "score": "***",
        "liked": ["price"],
        "when": "***",
    }
