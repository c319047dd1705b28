"""Dates read without dateparser (the common numeric and English forms) are what dateparser reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.dates import _ABSOLUTE, _DAY_FIRST, _dateparser, _languages, _plain_date, find_text_dates, parse_date

SNIPPETS = ["18.10.2021", "1/2/2022", "13/2/2022", "31.02.2021", "February 1, 2022", "1st Feb. 2022",
            "Sept 3, 2021", "3 September 2021", "May 31 2020", "31 June 2020"]  # fmt: skip


@pytest.mark.parametrize("language", [None, "en", "de", "fr"])
@pytest.mark.parametrize("snippet", SNIPPETS)
def test_plain_dates_are_what_dateparser_reads(snippet: str, language: str | None) -> None:
    fast = _plain_date(snippet, language)
    settings = {"TIMEZONE": "UTC", "PARSERS": _ABSOLUTE, "REQUIRE_PARTS": ["day", "month", "year"]}
    if _DAY_FIRST.match(snippet):  # as find_text_dates asks dateparser
        settings["DATE_ORDER"] = "MDY" if "/" in snippet and not _languages(language) else "DMY"
    slow = _dateparser(snippet, _languages(language), settings)
    assert fast is None or fast == slow  # None: dateparser is asked, as before


def test_plain_dates_in_text_and_meta_values() -> None:
    assert find_text_dates("Posted 18.10.2021 by staff") == [datetime(2021, 10, 18, tzinfo=UTC)]
    assert find_text_dates("Updated 1/2/2022") == [datetime(2022, 1, 2, tzinfo=UTC)]  # English: month first
    assert find_text_dates("Stand: 1/2/2022", "de") == [datetime(2022, 2, 1, tzinfo=UTC)]
    assert parse_date("February 1, 2022") == datetime(2022, 2, 1, tzinfo=UTC)
    assert _plain_date("Sept 3, 2021", "en") == datetime(2021, 9, 3, tzinfo=UTC)
    assert _plain_date("31.02.2021", None) is None  # no such day: left to dateparser
    assert _plain_date("3 Mai 2021", None) is None  # not English: left to dateparser
