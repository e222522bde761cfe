"""Campaign scripts: a script's body is checked (targets, loops, answer types) and a set of
answers is checked along the path it takes (required steps on it, types, nothing off it)."""

from __future__ import annotations

from typing import Any

import pytest

from cti.domain.scripts import check_answers, parse_script
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
