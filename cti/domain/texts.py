"""The marker of a text shown to people (``_("...")``): ``cti.i18n_extract`` finds it for the
catalogues, and it is translated where it is shown, in the reader's language. The domain stays
free of any translation machinery: the marker returns the English text as it is.

A text with values (``Words(_("{name} is busy"), name=...)``) is the English text filled in, a
``str`` like any other, that keeps its marked template and its values, so that where it is shown
it can be said again in the reader's language (the API's errors do)."""

from __future__ import annotations


def _(text: str) -> str:
    return text


class Words(str):
    """An English text with its ``{name}`` fields filled in, keeping ``template`` and ``values``."""

    template: str
    values: dict[str, object]

    def __new__(cls, template: str, /, **values: object) -> Words:
        made = super().__new__(cls, template.format(**values) if values else template)
        made.template = template
        made.values = values
        return made


def words(text: str, /, **values: object) -> Words:
    """``text`` as :class:`Words` (itself when it already is and no values are given)."""
    if isinstance(text, Words) and not values:
        return text
    return Words(text, **values)
