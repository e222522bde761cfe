"""Every message cti raises for people is marked for the catalogues: a refusal that reaches the API
(``UserInputError``, ``Refused``, ``Forbidden``, ``HTTPProblem``, ``NotFound``) passes its text as
``_("...")`` with its values by name, never as plain text or an f-string, so that it can be
answered in the reader's language (``tests/web/test_i18n.py`` then checks it is translated)."""

from __future__ import annotations

import ast
from pathlib import Path

import cti

ROOT = Path(cti.__file__).parent
# The argument holding the text, by position and by name.
MESSAGE = {
    "UserInputError": (1, "problem"),
    "Refused": (0, "message"),
    "Forbidden": (0, "message"),
    "HTTPProblem": (1, "message"),
    "NotFound": (0, "what"),
    # A problem of one row of an imported file (the lead upload shows them).
    "RowError": (2, "reason"),
    "row_error": (2, "reason"),
}


def _unmarked(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name not in MESSAGE:
            continue
        index, keyword = MESSAGE[name]
        arg = node.args[index] if len(node.args) > index else None
        for k in node.keywords:
            if k.arg == keyword:
                arg = k.value
        if arg is not None and _plain(arg):
            found.append((node.lineno, ast.unparse(arg)[:60]))
    return found


def _plain(node: ast.expr) -> bool:
    """A text written where the error is raised but not marked: a literal, an f-string, or one
    put together (``+``, ``%``, ``.format``), on either side of a conditional."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return True
    if isinstance(node, ast.IfExp):
        return _plain(node.body) or _plain(node.orelse)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
    )


def test_every_refusal_in_the_code_passes_a_marked_text() -> None:
    unmarked = [
        f"{path.relative_to(ROOT.parent)}:{line}: {text}"
        for path in sorted(ROOT.rglob("*.py"))
        for line, text in _unmarked(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not unmarked, "texts not marked _() (values by name):\n" + "\n".join(unmarked)


def test_the_check_finds_plain_texts_and_f_strings() -> None:
    source = (
        'raise UserInputError("a", "plain")\n'
        'raise Refused(f"x {y}")\n'
        'raise NotFound("thing", 3)\n'
        'raise HTTPProblem(404, "a" + b)\n'
        'raise UserInputError("a", _("marked {n}"), n=1)\n'
        "raise Refused(exc.message)\n"
        'raise Forbidden(_("a") if a else "b")\n'
        'raise Refused("{x}".format(x=1))\n'
        'check.row_error(2, "phone", f"{raw!r} is bad")\n'
        'RowError(1, "file", "the file is empty")\n'
        'check.row_error(2, "phone", _("{raw!r} is bad"), raw=raw)\n'
    )
    assert [line for line, _text in _unmarked(ast.parse(source))] == [1, 2, 3, 4, 7, 8, 9, 10]
