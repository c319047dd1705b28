"""Language of the extracted text (py3langid), falling back on the page's `<html lang>`."""

from __future__ import annotations

import logging
import lzma
import os
import re
import shutil
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

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
    code, _score = _identifier().classify(text[:SAMPLE_CHARS])
    return str(code)


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's model, read from an uncompressed copy in the cache folder (written on first use):
    its shipped file is LZMA-compressed, and unpacking it took about a second of every process's CPU.
    Any problem with the copy: the shipped file, as py3langid reads it."""
    from py3langid import langid

    copy = _model_copy(langid.MODEL_DIR / langid.MODEL_FILE)
    if copy is not None:
        try:
            return _from_copy(langid, copy)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("language model copy %s unreadable (%s); using the packaged file", copy, exc)
    return langid._get_identifier()


def _model_copy(shipped: Path) -> Path | None:
    folder = os.environ.get("NEWSFLOW_CACHE", str(Path.home() / ".cache" / "newsflow"))
    if not folder:
        return None
    copy = Path(folder) / f"py3langid-{version('py3langid')}-{shipped.stat().st_size}.npz"
    if copy.is_file():
        return copy
    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy.with_suffix(f".{os.getpid()}.tmp")
        with lzma.open(shipped) as src, tmp.open("wb") as out:
            shutil.copyfileobj(src, out, length=1 << 20)
        os.replace(tmp, copy)
    except (OSError, lzma.LZMAError) as exc:
        log.warning("language model copy %s not written (%s)", copy, exc)
        return None
    return copy


def _from_copy(langid: Any, copy: Path) -> Any:
    """What `LanguageIdentifier.from_model_file` builds, from the uncompressed npz."""
    from py3langid.modelio import _to_array

    with np.load(copy, allow_pickle=False) as data:
        return langid.LanguageIdentifier(
            np.asarray(data["ptc"]), np.asarray(data["pc"]), data["classes"].tolist(), _to_array(data["nextmove"]),
            data["out_feat"].tolist(), tk_row=_to_array(data["nextmove_row"]),
        )  # fmt: skip
