"""The marker of a text shown to people (``_("...")``): ``cti.i18n_extract`` finds it for the
catalogues, and it is translated where it is shown, in the reader's language. The domain stays
free of any translation machinery: the marker returns the English text as it is."""

from __future__ import annotations


def _(text: str) -> str:
    return text
