"""Dates, parsed in one place (pure, a leaf module): every stage that reads a date calls this.

- `parse_iso`: ISO 8601 / W3C-DTF (`2024-01-05`, `2024-01-05T10:00Z`, `20240105`): sitemaps, WARC
  headers, JSON feeds, JSON-LD and meta tags.
- `parse_date`: anything a machine wrote: ISO first, then RFC 822 (`Tue, 05 Mar 2024 10:00:00 GMT`),
  then dateparser for the rest (any language, absolute dates only: "today" is not a date a page can
  be trusted to mean).
- `parse_loose_date`: a date as a person wrote it, in any language (`Seg, 24 Set 2018 19:42:40 -0300`,
  `1. Februar 2022`, `18.10.2021`), with dateparser.
- `parse_time`: a strict ISO timestamp for data files; anything else is a Skip("bad_date").
- `find_text_dates`: the dates written in a short text, in any language, in order of appearance.

Every result is an aware datetime in UTC; a value without a zone is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from pipeline.errors import Skip

__all__ = ["find_text_dates", "parse_date", "parse_iso", "parse_loose_date", "parse_time", "parse_w3c_date"]

_ISO = re.compile(
    r"^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2}):?(\d{2})(?::?(\d{2}))?(?:[.,]\d+)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$"
)
_ISO_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?")
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})\b")
# dateparser without relative dates ("today", "3 hours ago"): a stored date must not depend on when it
# was read. A page date needs its day, month and year.
_ABSOLUTE = ["timestamp", "custom-formats", "absolute-time"]
_MAX_TEXT = 100


def _utc(found: datetime) -> datetime:
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def parse_iso(value: Any) -> datetime | None:
    """An ISO 8601 / W3C-DTF date or date-time (basic or extended form) as UTC; None if not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _ISO.match(text)
    if match is None:
        prefix = _ISO_PREFIX.match(text)  # ISO followed by junk ("2024-01-05T10:00:00+0000 (UTC)")
        match = _ISO.match(prefix.group(0)) if prefix else None
        if match is None:
            return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        found = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        try:
            return datetime.fromisoformat(f"{found.isoformat()}{zone[0]}{digits[:2]}:{digits[2:] or '00'}").astimezone(
                UTC
            )
        except ValueError:
            return None
    return found.replace(tzinfo=UTC)


def parse_w3c_date(value: str | None) -> datetime | None:
    """A sitemap or WARC date (W3C-DTF: 2024-01-05, 2024-01-05T10:00Z, ...) as UTC; None if unreadable."""
    return parse_iso(value)


def _rfc822(text: str) -> datetime | None:
    try:
        return _utc(parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None


def _dateparser(text: str, languages: list[str] | None, settings: dict[str, Any]) -> datetime | None:
    import dateparser  # slow to import: only values that are neither ISO nor RFC 822 need it

    found = dateparser.parse(text[:_MAX_TEXT], languages=languages, settings=settings)
    if found is None and languages:
        found = dateparser.parse(text[:_MAX_TEXT], settings=settings)
    return _utc(found) if found is not None else None


def _languages(language: str | None) -> list[str] | None:
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return [code] if code.isalpha() and len(code) in (2, 3) and code != "en" else None


def parse_date(value: Any, language: str | None = None) -> datetime | None:
    """A machine-written date (meta tag, JSON-LD, feed field) as UTC; None if unreadable.

    ISO 8601 and RFC 822 are read directly; other absolute dates in any language go to dateparser."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    found = parse_iso(text) or _rfc822(text)
    if found is None and (match := _SLASHED.match(text)):
        try:
            found = datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
        except ValueError:
            found = None
    if found is None:
        found = _plain_date(text, language, numeric=False)
    if found is None and re.search(r"\d", text):
        settings = {"TIMEZONE": "UTC", "PARSERS": _ABSOLUTE, "REQUIRE_PARTS": ["day", "month", "year"]}
        found = _dateparser(text, _languages(language), settings)
    return found


def parse_loose_date(raw: str, language: str | None = None) -> datetime | None:
    """A date in any common language/format ('Seg, 24 Set 2018 19:42:40 -0300'), as UTC; None if not one.
    A date without a day is the first of its month."""
    settings = {"TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DAY_OF_MONTH": "first"}
    return _dateparser(raw.strip(), _languages(language), settings)


def parse_time(value: Any) -> datetime | None:
    """A strict ISO 8601 timestamp ('Z' allowed) from a data file, or None when empty; anything else
    is a Skip("bad_date")."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise Skip("bad_date", repr(value)[:80])
    try:
        return _utc(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except ValueError as exc:
        raise Skip("bad_date", value[:80]) from exc


# ---------------------------------------------------------------- dates written in a text

_MONTH_WORD = r"[^\W\d_]{3,12}\.?"  # a month name or abbreviation in any alphabetic script
_YEAR = r"(?:19|20)\d{2}"
_ZONE = r"(?:\s*(?:Uhr|GMT|UTC|(?-i:[A-Z]{3,4})\b|[+-]\d{2}:?\d{2}))?"
_CLOCK = r"(?:,?\s*(?:at|um|à|a las|alle|om|kl\.?|в)?\s*\d{1,2}[:.h]\d{2}(?:\s*[ap]\.?m\.?)?" + _ZONE + ")?"
TEXT_DATE = re.compile(
    "|".join(
        (
            rf"\b{_YEAR}-[01]\d-[0-3]\d(?:[T ]\d{{2}}:\d{{2}})?",  # 2022-02-01
            rf"\b[0-3]?\d[./][01]?\d[./]{_YEAR}\b{_CLOCK}",  # 18.10.2021, 1/2/2022
            rf"\b{_YEAR}[./][01]?\d[./][0-3]?\d\b{_CLOCK}",  # 2021.10.18
            # 1. Februar 2022, 3 de febrero de 2022
            rf"\b[0-3]?\d(?:st|nd|rd|th|er|º|\.)?\s+(?:de\s+)?{_MONTH_WORD},?\s+(?:de\s+)?{_YEAR}\b{_CLOCK}",
            rf"\b{_MONTH_WORD}\s+[0-3]?\d(?:st|nd|rd|th)?,?\s+{_YEAR}\b{_CLOCK}",  # February 1, 2022
            rf"{_YEAR}\s*年\s*[01]?\d\s*月\s*[0-3]?\d\s*日",  # 2022年2月1日
            rf"{_YEAR}\s*년\s*[01]?\d\s*월\s*[0-3]?\d\s*일",  # 2022년 2월 1일
        )
    ),
    re.I,
)
_DAY_FIRST = re.compile(r"^[0-3]?\d[./][01]?\d[./]\d{4}")
_MONTHS = {
    name: n
    for n, full in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                              "september", "october", "november", "december"), start=1)
    for name in (full, full[:3], full[:4] if n == 9 else full)
}  # fmt: skip
_NUMERIC_DATE = re.compile(r"^([0-3]?\d)([./])([01]?\d)\2(\d{4})$")
_ENGLISH_DATE = re.compile(
    r"^(?:([0-3]?\d)(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?|([a-z]{3,9})\.?\s+([0-3]?\d)(?:st|nd|rd|th)?),?\s+(\d{4})$", re.I
)


def _plain_date(snippet: str, language: str | None, *, numeric: bool = True) -> datetime | None:
    """The common forms that need no dateparser (what it would read them as): a bare numeric date
    (18.10.2021; with a slash on an English page 1/2/2022 is month first) and, on an English or
    unmarked page, an English month name ("February 1, 2022", "1st Feb. 2022"; `numeric` False: only
    these). Anything else, a time of day included, is left to dateparser (None)."""
    found = _NUMERIC_DATE.match(snippet) if numeric else None
    if found:
        first, sep, second, year = int(found[1]), found[2], int(found[3]), int(found[4])
        day, month = (second, first) if sep == "/" and not _languages(language) else (first, second)
        return _valid_date(year, month, day)
    named = _ENGLISH_DATE.match(snippet)
    if named is None or _languages(language):
        return None
    day_text, month_text = (named[1], named[2]) if named[1] else (named[4], named[3])
    named_month = _MONTHS.get(month_text.lower())
    return _valid_date(int(named[5]), named_month, int(day_text)) if named_month else None


def _valid_date(year: int, month: int, day: int) -> datetime | None:
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None  # dateparser is asked, as before


def find_text_dates(text: str, language: str | None = None, *, limit: int = 3) -> list[datetime]:
    """The full dates (day, month, year; with the time when written) in a short text, in any
    language, in order of appearance; at most `limit`."""
    found: list[datetime] = []
    base: dict[str, Any] = {"TIMEZONE": "UTC", "PARSERS": _ABSOLUTE, "REQUIRE_PARTS": ["day", "month", "year"]}
    for match in TEXT_DATE.finditer(text):
        snippet = match.group(0).strip()
        when = parse_iso(snippet) or _plain_date(snippet, language)
        if when is None:
            # numeric dates with the year last are day first (18.10.2021) outside the US; with a slash
            # and an English page, month first
            settings = base
            if _DAY_FIRST.match(snippet):
                settings = {**base, "DATE_ORDER": "MDY" if "/" in snippet and not _languages(language) else "DMY"}
            when = _dateparser(snippet, _languages(language), settings)
        if when is not None:
            found.append(when)
            if len(found) >= limit:
                break
    return found
