"""Language of the extracted text (py3langid), falling back on the page's `<html lang>`."""

from __future__ import annotations

import re

SAMPLE_CHARS = 1500
MIN_WORDS = 8
_CODE = re.compile(r"^[a-z]{2}$")


def _html_lang(value: str | None) -> str | None:
    if not value:
        return None
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if _CODE.match(code) else None


def detect_language(text: str, html_lang: str | None = None) -> str | None:
    """ISO 639-1 code of `text`; the declared `<html lang>` when the text is too short to tell."""
    if len(text.split()) < MIN_WORDS:
        return _html_lang(html_lang)
    import py3langid

    code, _score = py3langid.classify(text[:SAMPLE_CHARS])
    return str(code)
