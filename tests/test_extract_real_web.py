"""Extraction on the real web: aggregator pages, scripts without spaces, dates in any language,
authors, the stored charset. The pages are our own markup; the aggregator page wraps the seed 002 text
(read at test time from the shared corpus, skipped without it)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.dates import find_text_dates, parse_date, parse_iso, parse_loose_date, parse_time
from pipeline.errors import Skip
from pipeline.extract.core import extract, extract_many, text_length
from pipeline.extract.metadata import split_authors

NOW = datetime(2026, 1, 1, tzinfo=UTC)
BODY = " ".join(["The council met on Monday and discussed the budget for the coming year in detail."] * 6)


def _seed_002(seeds_dir: Path) -> tuple[str, list[str], list[tuple[str, str, list[str]]]]:
    """(title, main paragraphs up to the closing copyright line, related stories) of seed 002."""
    lines = next(seeds_dir.glob("002_*.txt")).read_text(encoding="utf-8").split("\n")
    end = lines.index("© Thomson Reuters 2025.")
    rest = lines[lines.index("Related Articles", end) + 1 :]
    stories = []
    for chunk in "\n".join(rest).split("\n\n\n"):
        parts = [p for p in chunk.split("\n") if p.strip()]
        if len(parts) >= 5:
            stories.append((parts[0], parts[3], parts[4:]))
    return lines[1], [p for p in lines[4 : end + 1] if p.strip()], stories


def _aggregator_page(title: str, body: list[str], stories: list[tuple[str, str, list[str]]], *, inside: bool) -> str:
    e = html.escape
    cards = "".join(
        f'<article class="item"><div>{e(source)}</div><span>4 hours ago</span><h3><a href="/n/{n}">{e(head)}</a></h3>'
        + "".join(f"<p>{e(t)}</p>" for t in text)
        + "</article>"
        for n, (source, head, text) in enumerate(stories)
    )
    related = f"<section><h2>Related Articles</h2>{cards}</section>"
    article = (
        f"<div><h1>{e(title)}</h1><div class='byline'>By Ahmed Rasheed, Timour Azhari and Michael Georgy</div><div>"
        + "".join(f"<p>{e(p)}</p>" for p in body)
        + "</div><div><h3>Try Our AI Features</h3><p>Explore what Daily8 AI can do for you:</p></div>"
        + (related if inside else "")
        + "</div>"
    )
    return (
        f'<html lang="en"><head><title>{e(title)}</title></head><body><nav><a href="/">Home</a></nav>'
        f"<main>{article}{'' if inside else related}</main></body></html>"
    )


@pytest.mark.parametrize("inside", [True, False])
def test_aggregator_page_keeps_the_main_story_only(seeds_dir: Path, inside: bool) -> None:
    title, body, stories = _seed_002(seeds_dir)
    assert len(stories) == 3, "seed 002 carries three related stories"
    found = extract(_aggregator_page(title, body, stories, inside=inside), "https://daily8.example/a/1", now=NOW)
    last_gold = [p for p in body if not p.startswith("©")][-1]
    assert found.text.split("\n")[-1] == last_gold  # the text ends where GOLD.md says
    for _, head, text in stories:
        assert text[0][:60] not in found.text and head not in found.text
    assert found.authors == ["Ahmed Rasheed", "Timour Azhari", "Michael Georgy"]


def test_related_box_amid_the_article_keeps_the_text_after_it() -> None:
    page = (
        f"<html><body><article><h1>Council budget</h1><p>{BODY}</p><h4>More:</h4>"
        '<ul><li><a href="/x">Another story about something else</a></li></ul>'
        f"<p>After the box. {BODY}</p></article></body></html>"
    )
    found = extract(page, "https://news.example/a", now=NOW)
    assert "After the box." in found.text and "Another story" not in found.text


def _sentences(topic: str, n: int = 6) -> str:
    return " ".join(f"The {topic} report, part {i}, was read out to the assembly on Monday evening." for i in range(n))


def test_blog_whose_h1_is_the_site_name_keeps_its_post() -> None:
    # the headline is the site's name, outside the post's <article>, above text of its own
    page = (
        "<html><body><div id='page'><header><h1>Gormulus</h1>"
        f"<p>{_sentences('about')}</p></header>"
        f"<article class='post'><h2>Der Beitrag</h2><p>{_sentences('budget')}</p><p>{_sentences('harbour')}</p>"
        "</article><article class='teaser'><h3><a href='/b'>Older post</a></h3><p>An older post.</p></article>"
        "</div></body></html>"
    )
    found = extract(page, "https://gormulus.example/2012/12/post", now=NOW)
    assert "The harbour report, part 5" in found.text
    assert found.dropped.get("other_article", 0) == 0


@pytest.mark.parametrize("name", ["read_more", "post tag-trending", "article related-content"])
def test_article_container_named_like_other_stories_keeps_its_text(name: str) -> None:
    page = (
        f"<html><body><h1>Council budget</h1><div class='{name}'><p>{_sentences('budget')}</p>"
        f"<p>{_sentences('harbour')}</p></div><div class='related-links'><a href='/x'>Another story</a></div>"
        "</body></html>"
    )
    found = extract(page, "https://news.example/a", now=NOW)
    assert "The harbour report, part 5" in found.text and "Another story" not in found.text


def test_rule_that_would_take_most_of_the_text_removes_nothing() -> None:
    parts = "".join(
        f"<div class='related-part'><p>{_sentences(topic)}</p></div>"
        for topic in ("budget", "harbour", "school", "bridge")
    )
    page = f"<html><body><h1>Council budget</h1><div>{parts}</div></body></html>"
    found = extract(page, "https://news.example/a", now=NOW)
    assert all(f"The {topic} report, part 5" in found.text for topic in ("budget", "harbour", "school", "bridge"))
    assert found.dropped.get("other_story_unsafe") == 1


def test_length_of_scripts_without_spaces_is_in_characters() -> None:
    chinese = "国务院今天召开常务会议，研究部署进一步做好防汛抗旱工作。" * 15
    assert text_length(chinese) == len(chinese) - chinese.count("，") - chinese.count("。")
    assert text_length("বাংলাদেশের রাজধানী ঢাকা") == 3
    page = f'<html lang="zh"><body><article><h1>会议</h1><p>{chinese}</p></article></body></html>'
    found = extract(page, "https://news.example.cn/a", now=NOW)
    assert text_length(found.text) >= 40 * 5  # far above the 40-unit minimum


def test_json_ld_body_when_trafilatura_finds_no_text() -> None:
    body = "বাংলাদেশের রাজধানী ঢাকায় আজ একটি গুরুত্বপূর্ণ বৈঠক অনুষ্ঠিত হয়েছে। " * 8
    page = (
        '<html lang="bn"><head><script type="application/ld+json">'
        f'{{"@type": "NewsArticle", "headline": "বৈঠক", "articleBody": "{body}"}}</script></head>'
        "<body><div id='app'></div></body></html>"
    )
    found = extract(page, "https://news.example.bd/a", now=NOW)
    assert found.text.startswith("বাংলাদেশের")  # no_text would be a Skip


@pytest.mark.parametrize(
    ("snippet", "lang", "expected"),
    [
        ("Datum: 18.10.2021", "de", datetime(2021, 10, 18, tzinfo=UTC)),
        ("1. Februar 2022", "de", datetime(2022, 2, 1, tzinfo=UTC)),
        ("Publié le 3 mars 2021 à 10h30", "fr", datetime(2021, 3, 3, 10, 30, tzinfo=UTC)),
        ("1 de febrero de 2022", "es", datetime(2022, 2, 1, tzinfo=UTC)),
        ("2022年2月1日", "ja", datetime(2022, 2, 1, tzinfo=UTC)),
        ("February 1, 2022 at 3:04 pm", "en", datetime(2022, 2, 1, 15, 4, tzinfo=UTC)),
    ],
)
def test_dates_written_in_any_language(snippet: str, lang: str, expected: datetime) -> None:
    assert find_text_dates(snippet, lang) == [expected]


def test_one_date_parser_for_every_format() -> None:
    assert parse_iso("2024-01-05T10:00:00+0200") == datetime(2024, 1, 5, 8, tzinfo=UTC)
    assert parse_iso("20240105") == datetime(2024, 1, 5, tzinfo=UTC)
    assert parse_iso("yesterday") is None
    assert parse_date("Tue, 05 Mar 2024 10:00:00 GMT") == datetime(2024, 3, 5, 10, tzinfo=UTC)
    assert parse_date("18.10.2021", "de") == datetime(2021, 10, 18, tzinfo=UTC)
    assert parse_date("today") is None  # relative dates are never a page's date
    assert parse_loose_date("Seg, 24 Set 2018 19:42:40 -0300", "pt") == datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC)
    assert parse_time("2024-01-05T10:00:00Z") == datetime(2024, 1, 5, 10, tzinfo=UTC)
    with pytest.raises(Skip):
        parse_time("5 Jan 2024")


def _page(head: str, article: str, aside: str = "", lang: str = "de") -> str:
    return (
        f'<html lang="{lang}"><head><title>Stadtrat</title>{head}</head><body><main><article><h1>Stadtrat</h1>'
        f"{article}<p>{BODY}</p></article><aside>{aside}</aside></main></body></html>"
    )


SIDEBAR = "<h3>Neueste Meldungen</h3><ul>" + "".join(
    f'<li><a href="/n/{d}">Meldung</a> <time datetime="2023-0{d}-02">2. {m} 2023</time></li>'
    for d, m in ((1, "Januar"), (2, "Februar"), (3, "März"))
)


@pytest.mark.parametrize(
    ("article", "expected"),
    [
        ("<p>Datum: 18.10.2021</p>", datetime(2021, 10, 18, tzinfo=UTC)),
        ('<div class="meta">1. Februar 2022</div>', datetime(2022, 2, 1, tzinfo=UTC)),
        (
            '<span class="datum">Veröffentlicht am 1. Februar 2022, 14:30 Uhr</span>',
            datetime(2022, 2, 1, 14, 30, tzinfo=UTC),
        ),
    ],
)
def test_page_date_in_german_not_the_sidebar(article: str, expected: datetime) -> None:
    found = extract(_page("", article, SIDEBAR), "https://zeitung.example/stadtrat", now=NOW)
    assert (found.published_at, found.date_source) == (expected, "text")


def test_sidebar_dates_are_not_the_page_date() -> None:
    found = extract(_page("", "", SIDEBAR), "https://zeitung.example/stadtrat", now=NOW)
    assert found.published_at is None or found.published_at.year != 2023


def test_fact_check_gets_its_own_date_not_the_claims() -> None:
    claim = (
        '<script type="application/ld+json">{"@type": "ClaimReview", "datePublished": "2021-05-03",'
        ' "itemReviewed": {"@type": "Claim", "datePublished": "2020-01-10"}}</script>'
    )
    quote = '<blockquote class="claim">"The dam will be finished next year," <time>10 January 2020</time></blockquote>'
    with_ld = extract(_page(claim, quote, lang="en"), "https://factcheck.example/dam", now=NOW)
    assert with_ld.published_at == datetime(2021, 5, 3, tzinfo=UTC)
    shown = '<p class="byline">Published 3 May 2021</p>'
    without_ld = extract(_page("", quote + shown, lang="en"), "https://factcheck.example/dam", now=NOW)
    assert without_ld.published_at == datetime(2021, 5, 3, tzinfo=UTC)


@pytest.mark.parametrize("byline", ["The Russian", "Syrian defense ministries", "(Live updates)"])
def test_fragments_are_not_authors(byline: str) -> None:
    assert split_authors(byline) == []


def test_names_with_particles_and_other_scripts_are_authors() -> None:
    assert split_authors("By Juan de la Cruz and Ahmed al-Sharaa") == ["Juan de la Cruz", "Ahmed al-Sharaa"]
    assert split_authors("محمد علي") == ["محمد علي"]


def test_stored_charset_decides_how_bytes_are_read() -> None:
    text = f"<html><body><article><h1>Überschrift</h1><p>Größe {BODY}</p></article></body></html>"
    data = text.encode("iso-8859-15")
    (found,) = extract_many([(data, "https://zeitung.example/a")], now=NOW, charsets=["iso-8859-15"])
    assert not isinstance(found, Skip) and "Größe" in found.text
    utf8 = extract(text.encode("utf-8"), "https://zeitung.example/a", now=NOW, charset="windows-1252")
    assert "Größe" in utf8.text  # valid UTF-8 labelled latin is read as UTF-8
