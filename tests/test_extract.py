"""Article extraction: text, metadata, bad input, site-level boilerplate, the stored profiles and
the `newsflow extract` / `newsflow eval extraction` commands. Pages here are written for the tests."""

from __future__ import annotations

import codecs
import gzip
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.errors import Skip
from pipeline.extract.core import (
    EXTRACTOR_VERSION,
    Extraction,
    extract,
    extract_many,
    learn_site_profile,
    unfiltered_text,
)
from pipeline.extract.lines import boilerplate_kind, drop_repeated_block, drop_tail_contact
from pipeline.extract.metadata import split_authors
from pipeline.extract.scoring import aeb_score, snippet_score
from pipeline.extract.store import load_site_profile, load_site_profiles, update_site_profile

NOW = datetime(2025, 6, 20, 12, 0, tzinfo=UTC)
NEWSFLOW = str(Path(sys.executable).parent / "newsflow")

ARTICLE = [
    "Iraqi security forces arrested two envoys of the group at a checkpoint in the north of the country on "
    "Monday, five counter-terrorism officials said, in an operation they described as the largest this year.",
    "The men had travelled from Raqqa with instructions for sleeper cells in Kirkuk and Salahuddin provinces, "
    "the officials said, speaking on condition of anonymity because they were not authorised to brief reporters.",
    "Eleven days later, a suspected suicide bomber was killed in a shootout with security forces at a restaurant "
    "in Daquq, a town south of Kirkuk, according to police and a local official who witnessed the clash.",
    "Analysts say the group has been trying to rebuild its networks across the border since the fall of the "
    "government in Damascus, but that most of its plots have been foiled before they could be carried out.",
]
TEASERS = ["Kurdish forces retake village near Hasakah", "Prison break fears grow in north-east Syria"]
SITE_PROMPT = "The Morning Dispatch lands in your mailbox every weekday with the five stories that matter most."


def news_page(
    paragraphs: list[str],
    *,
    title: str = "Iraq foils plots as Islamic State regroups",
    jsonld_date: str | None = "2025-06-14T08:30:00+03:00",
    meta_date: str | None = None,
    authors: list[str] | None = None,
    extra_body: str = "",
    canonical: str | None = "https://news.example.com/world/2025/06/14/iraq-foils-plots",
) -> str:
    names = authors if authors is not None else ["Ahmed Rasheed", "Timour Azhari"]
    ld: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": title,
        "author": [{"@type": "Person", "name": n} for n in names],
        "publisher": {"@type": "Organization", "name": "Example News"},
    }
    if jsonld_date:
        ld["datePublished"] = jsonld_date
    head = [
        '<meta charset="utf-8">',
        f"<title>{title} | Example News</title>",
        '<meta property="og:site_name" content="Example News">',
        f'<meta property="og:title" content="{title}">',
        f'<script type="application/ld+json">{json.dumps(ld)}</script>',
    ]
    if canonical:
        head.append(f'<link rel="canonical" href="{canonical}">')
        head.append('<meta property="og:url" content="/world/iraq-foils-plots?ref=og">')
    if meta_date:
        head.append(f'<meta property="article:published_time" content="{meta_date}">')
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    teasers = "".join(f'<p><a href="/world/{i}">{t}</a></p>' for i, t in enumerate(TEASERS))
    return (
        f'<!DOCTYPE html><html lang="en"><head>{"".join(head)}</head><body>'
        '<nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        f"<article><h1>{title}</h1><p class='byline'>By {' and '.join(names)}</p>"
        "<figure><img src='/a.jpg'><figcaption>Iraqi soldiers at a checkpoint. (AP Photo/Hadi Mizban)</figcaption>"
        f"</figure>{body}{teasers}<p>Sign up for our newsletter to get the latest news in your inbox.</p>"
        f"{extra_body}</article><footer>Copyright 2025 Example News. All rights reserved.</footer></body></html>"
    )


# ---------------------------------------------------------------- text and metadata


def test_extracts_article_text_and_metadata() -> None:
    url = "https://news.example.com/world/2025/06/14/iraq-foils-plots?utm_source=rss"
    found = extract(news_page(ARTICLE), url, now=NOW)
    assert isinstance(found, Extraction)
    assert found.text.split("\n") == ARTICLE
    assert found.title == "Iraq foils plots as Islamic State regroups"
    assert found.authors == ["Ahmed Rasheed", "Timour Azhari"]
    assert found.published_at == datetime(2025, 6, 14, 5, 30, tzinfo=UTC)
    assert found.date_source == "json-ld" and found.date_note is None
    assert found.language == "en"
    assert found.sitename == "Example News"
    assert found.canonical_url == "https://news.example.com/world/2025/06/14/iraq-foils-plots"
    assert found.aliases == [
        "https://news.example.com/world/2025/06/14/iraq-foils-plots",
        "https://news.example.com/world/iraq-foils-plots?ref=og",
    ]
    assert found.dropped.get("link_paragraph") == len(TEASERS)
    assert found.dropped.get("signup") == 1
    assert EXTRACTOR_VERSION.startswith("newsflow-extract/") and "trafilatura/" in EXTRACTOR_VERSION


def test_an_article_body_split_around_advertisements_is_joined() -> None:
    chunks = "".join(
        f'<div class="grid"><div class="article__body">{"".join(f"<p>{p}</p>" for p in part)}</div></div>'
        '<div class="ad-slot">Advertisement</div>'
        for part in (ARTICLE[:2], ARTICLE[2:])
    )
    page = (
        '<html lang="en"><head><meta property="og:title" content="Iraq foils plots"></head><body>'
        f"<main><article><h1>Iraq foils plots</h1>{chunks}</article></main>"
        "<aside><p>Most read: stories elsewhere on the site</p></aside></body></html>"
    )
    found = extract(page, "https://news.example.com/world/2025/06/14/iraq-foils-plots", now=NOW)
    assert found.text.split("\n") == ARTICLE


def test_boilerplate_kinds_named_in_the_seed_gold() -> None:
    assert boilerplate_kind("See more of the story") == "related"
    assert boilerplate_kind("Read more:") == "related"
    assert boilerplate_kind("Stay Informed") == "signup"
    assert boilerplate_kind("Sign up to receive updates from CTC.") == "signup"
    assert boilerplate_kind("Related Articles") == "related"
    assert boilerplate_kind("Comments") == "comments"
    assert (
        boilerplate_kind(
            "Forces loyal to Syrian President Bashar al-Assad advance on the historic city of Palmyra "
            "on March 24. (SANA/via Reuters)"
        )
        == "credit"
    )
    assert boilerplate_kind("FILE PHOTO: A guard looks at fighters through bars. REUTERS/Orhan Qereman") == "credit"
    # article sentences that merely mention the same words stay
    for sentence in (
        "Officials said the group's newsletter al-Naba had urged followers to attack prisons in the north.",
        "The photo showed the bridge after the air strike, a local journalist said on Monday.",
        "He said the group (ISIS) was weaker than at any time since 2014.",
    ):
        assert boilerplate_kind(sentence) is None, sentence


def test_embedded_tweets_are_kept_as_quotes() -> None:
    tweet = (
        '<div class="social-media-embed"><blockquote class="twitter-tweet"><p lang="en">Our forces cleared the '
        "last pocket near Baghuz this morning, the spokesman wrote.</p>&mdash; SDF Press (@SDFpress) "
        '<a href="https://twitter.com/SDFpress/status/1">March 23, 2019</a></blockquote>'
        '<script async src="https://platform.twitter.com/widgets.js"></script></div>'
    )
    found = extract(news_page(ARTICLE[:2], extra_body=tweet + f"<p>{ARTICLE[2]}</p>"), None, now=NOW)
    assert "Our forces cleared the last pocket near Baghuz this morning" in found.text
    assert found.text.index("Baghuz") < found.text.index(ARTICLE[2][:40])


def test_own_address_contact_prompts_and_leftovers_are_dropped() -> None:
    url = "https://news.example.com/world/2025/06/14/iraq-foils-plots"
    closing = (
        f"<p>{url}</p><p>2025-06-14T08:30:00+03:00</p><p>https://cdn.example.com/img/iraq-checkpoint.jpg</p>"
        "<p>Ahmed Rasheed may be reached at ahmed.rasheed@example.com. Follow him on Twitter @arasheed.</p>"
    )
    found = extract(news_page(ARTICLE, extra_body=closing), url, now=NOW)
    assert found.text.split("\n") == ARTICLE
    assert found.dropped.get("own_url") == 1 and found.dropped.get("metadata") == 2
    assert found.dropped.get("contact") == 1


def test_contact_prompts_only_at_the_end() -> None:
    lines = ["Follow her on Twitter @jdoe, the spokesman told supporters, is what the message said.", *ARTICLE]
    assert drop_tail_contact(lines) == (lines, 0)
    closing = "Write to Jane Doe at jane.doe@example.com"
    assert drop_tail_contact([*ARTICLE, closing]) == (ARTICLE, 1)


def test_a_block_printed_twice_is_dropped_once_but_single_repeats_stay() -> None:
    twice, count = drop_repeated_block([*ARTICLE, "-", *ARTICLE[:3]])
    assert (twice, count) == ([*ARTICLE, "-"], 3)
    refrain = [ARTICLE[0], "Eat every 2-3 hours", ARTICLE[1], "Eat every 2-3 hours", ARTICLE[0]]
    assert drop_repeated_block(refrain) == (refrain, 0)


def test_reader_prompts_and_reprint_notices() -> None:
    assert boilerplate_kind("For the latest stories download the\xa0Example News apps for iOS and Android.") == "prompt"
    assert boilerplate_kind("We’d like to hear what you think about this or any of our articles.") == "prompt"
    assert boilerplate_kind("To read the full article, please log in or create an account.") == "prompt"
    assert (
        boilerplate_kind("This copy is for your personal, non-commercial use only. To order copies visit example.com.")
        == "copyright"
    )
    assert boilerplate_kind("The ministry said it would download the data from the app to identify the men.") is None


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("By Ahmed Rasheed, Timour Azhari and Michael Georgy", ["Ahmed Rasheed", "Timour Azhari", "Michael Georgy"]),
        ("BY TOM KRISHER", ["Tom Krisher"]),
        ("Reuters Staff", []),
        ("https://www.example.com/authors/jane", []),
        ("Jane Doe; John Smith & Ana María López", ["Jane Doe", "John Smith", "Ana María López"]),
    ],
)
def test_split_authors(byline: str, names: list[str]) -> None:
    assert split_authors(byline) == names


def test_date_sources_in_order_of_trust() -> None:
    url = "https://news.example.com/world/2025/06/14/iraq-foils-plots"
    meta = extract(news_page(ARTICLE, jsonld_date=None, meta_date="2025-06-14T07:00:00Z"), url, now=NOW)
    assert (meta.published_at, meta.date_source) == (datetime(2025, 6, 14, 7, tzinfo=UTC), "meta")
    from_url = extract(news_page(ARTICLE, jsonld_date=None, canonical=None), url, now=NOW)
    assert (from_url.published_at, from_url.date_source) == (datetime(2025, 6, 14, tzinfo=UTC), "url")
    dateline = "<p class='dateline'>Published 14 June 2025, 09:15 GMT</p>"
    shown = extract(news_page(ARTICLE, jsonld_date=None, canonical=None, extra_body=dateline), url, now=NOW)
    assert (shown.published_at, shown.date_source) == (datetime(2025, 6, 14, 9, 15, tzinfo=UTC), "text")


def test_future_and_ancient_dates_are_not_trusted() -> None:
    future = extract(news_page(ARTICLE, jsonld_date="2031-01-01T00:00:00Z", canonical=None), None, now=NOW)
    assert future.published_at is None and future.date_source == "none"
    assert future.date_note is not None and "future date 2031-01-01" in future.date_note
    ancient = extract(news_page(ARTICLE, jsonld_date="1985-05-01", canonical=None), None, now=NOW)
    assert ancient.published_at is None
    assert ancient.date_note is not None and "before 1990" in ancient.date_note
    # an untrusted JSON-LD date gives way to the next source, and the note says why
    url = "https://news.example.com/world/2025/06/14/iraq-foils-plots"
    fallback = extract(news_page(ARTICLE, jsonld_date="2031-01-01T00:00:00Z", canonical=None), url, now=NOW)
    assert fallback.published_at == datetime(2025, 6, 14, tzinfo=UTC) and fallback.date_source == "url"
    assert fallback.date_note == "json-ld: future date 2031-01-01"


def test_language_of_a_german_page() -> None:
    german = [
        "Die irakischen Sicherheitskräfte haben am Montag zwei Gesandte der Terrormiliz an einem Kontrollpunkt "
        "im Norden des Landes festgenommen, wie mehrere Beamte der Terrorabwehr mitteilten.",
        "Die Männer sollen Anweisungen für Schläferzellen in den Provinzen Kirkuk und Salahuddin bei sich "
        "getragen haben, sagten die Beamten, die anonym bleiben wollten.",
    ]
    page = news_page(german).replace('lang="en"', 'lang="de"')
    assert extract(page, None, now=NOW).language == "de"


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"",
        b"just some words, no markup",
    ],
)
def test_non_html_is_skipped(data: bytes) -> None:
    with pytest.raises(Skip) as caught:
        extract(data, "https://news.example.com/file")
    assert caught.value.reason == "not_html"


def test_page_without_article_text_is_skipped() -> None:
    page = "<html><head><title>Menu</title></head><body><nav><a href='/'>Home</a></nav></body></html>"
    with pytest.raises(Skip) as caught:
        extract(page, "https://news.example.com/")
    assert caught.value.reason == "no_text"


def test_huge_input_is_skipped_without_parsing() -> None:
    from pipeline.extract.decode import MAX_HTML_BYTES

    with pytest.raises(Skip) as caught:
        extract(b"<html>" + b" " * MAX_HTML_BYTES + b"</html>")
    assert caught.value.reason == "too_large"
    bomb = gzip.compress(b"<html>" + b"a" * (MAX_HTML_BYTES + 10))
    with pytest.raises(Skip) as caught:
        extract(bomb)
    assert caught.value.reason == "too_large"


def test_declared_and_detected_charsets() -> None:
    text = ARTICLE[:1] + [
        "Le café de la place, où les habitants se retrouvent, a rouvert ses portes après les combats."
    ]
    latin = news_page(text).replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">').encode("cp1252")
    assert "Le café de la place, où" in extract(latin, None, now=NOW).text
    utf16 = codecs.BOM_UTF16_LE + news_page(text).encode("utf-16-le")
    assert "Le café de la place, où" in extract(utf16, None, now=NOW).text
    # UTF-8 with one broken byte stays UTF-8 (a single-byte guess would garble every accented letter)
    broken = news_page(text).encode("utf-8").replace(b"</footer>", b"\xe9</footer>")
    assert "Le café de la place, où" in extract(broken, None, now=NOW).text
    mislabelled = news_page(text).encode("cp1252")  # declares utf-8, is windows-1252: not read as UTF-8
    assert "\ufffd" not in extract(mislabelled, None, now=NOW).text


# ---------------------------------------------------------------- site-level boilerplate


def _site_pages() -> list[tuple[str, str]]:
    stories = [
        ARTICLE,
        [
            "Syrian government forces killed three suspected members of the group and detained four others "
            "in a raid on a house in Aleppo on Saturday, the interior ministry said.",
            "The raid came three days after a meeting between Syrian and American officials on cooperation "
            "against the group, which still holds out in the desert between Palmyra and Deir ez-Zor.",
            "Residents of the neighbourhood said the shooting lasted for more than an hour and that "
            "ambulances were kept away until the early morning.",
            "The ministry published photographs of rifles, explosive belts and forged identity cards that "
            "it said had been found in the house.",
        ],
        [
            "A court in Baghdad sentenced eleven men to death on Wednesday for their role in attacks on "
            "markets and checkpoints in the capital between 2014 and 2016, the judiciary said in a statement.",
            "The men were handed over by the Syrian Democratic Forces last year, part of a transfer of "
            "hundreds of Iraqi detainees from prisons in north-east Syria that rights groups have criticised.",
        ],
    ]
    return [
        (news_page(s, extra_body=f"<p>{SITE_PROMPT}</p>"), f"https://news.example.com/world/story-{i}")
        for i, s in enumerate(stories)
    ]


def test_site_boilerplate_is_learned_from_the_pages_given_together() -> None:
    pages = _site_pages()
    alone = extract(pages[0][0], pages[0][1], now=NOW)
    assert SITE_PROMPT in alone.text  # one page alone cannot tell
    together = extract_many(pages, now=NOW)
    assert all(isinstance(r, Extraction) for r in together)
    for result in together:
        assert isinstance(result, Extraction)
        assert SITE_PROMPT not in result.text
        assert result.dropped.get("site_boilerplate") == 1
    first = together[0]
    assert isinstance(first, Extraction) and first.text.split("\n") == ARTICLE


def test_a_profile_learned_from_the_page_itself_does_not_strip_it() -> None:
    pages = _site_pages()
    profile = learn_site_profile([html for html, _ in pages])
    assert profile.pages == 3
    found = extract(pages[0][0], pages[0][1], site=profile, now=NOW)
    assert found.text.split("\n") == ARTICLE


def test_versions_of_one_story_are_not_boilerplate_of_each_other() -> None:
    update = ARTICLE + ["The ministry later said a third suspect had been detained in Tikrit on Tuesday evening."]
    pages = [
        (news_page(ARTICLE), "https://news.example.com/world/story"),
        (news_page(update), "https://news.example.com/world/story-updated"),
    ]
    first, second = extract_many(pages, now=NOW)
    assert isinstance(first, Extraction) and isinstance(second, Extraction)
    assert first.text.split("\n") == ARTICLE and second.text.split("\n") == update


def test_stored_site_profile_round_trip_is_idempotent(conn) -> None:
    pages = [html for html, _ in _site_pages()]
    assert load_site_profile(conn, "example.com") is None
    texts = [unfiltered_text(page) for page in pages[:2]]
    assert update_site_profile(conn, "example.com", texts) == 2
    assert update_site_profile(conn, "example.com", texts) == 0  # a rerun counts nothing twice
    stored = load_site_profile(conn, "example.com")
    assert stored is not None and stored.pages == 2
    found = extract(pages[2], "https://news.example.com/world/story-2", site=stored, now=NOW)
    assert SITE_PROMPT not in found.text and found.dropped.get("site_boilerplate") == 1
    before = conn.execute("SELECT sum(pages) FROM site_paragraphs WHERE source = 'example.com'").fetchone()[0]
    assert update_site_profile(conn, "example.com", [found.unfiltered_text]) == 1  # no re-extraction needed
    after = conn.execute("SELECT sum(pages) FROM site_paragraphs WHERE source = 'example.com'").fetchone()[0]
    assert after > before


def test_the_part_of_a_profile_a_batch_loads_gives_what_the_whole_profile_gives(conn) -> None:
    """The pipeline loads only the page ids and paragraph keys a batch's pages consult (its cost does not
    grow with the site's history): counting and filtering those pages agrees with the whole profile."""
    pages = [html for html, _ in _site_pages()]
    texts = [unfiltered_text(page) for page in pages]
    other = "A separate paragraph about the weather in Mosul that only this one page of the site printed."
    update_site_profile(conn, "example.com", [*texts[:2], other])
    whole = load_site_profile(conn, "example.com")
    (part,) = load_site_profiles(conn, {"example.com": texts[1:]}).values()
    assert whole is not None and part is not None
    assert len(part.counts) < len(whole.counts)  # the paragraph of the third page only is not loaded
    for text in texts[1:]:
        assert part.filter(text) == whole.filter(text)
    assert [part.copy().add_page(t) for t in texts[1:]] == [whole.copy().add_page(t) for t in texts[1:]]
    assert load_site_profiles(conn, {"other.example": texts}) == {"other.example": None}


# ---------------------------------------------------------------- scoring


def test_aeb_score_follows_the_authors_definition() -> None:
    truth = "one two three four five six seven eight"
    perfect = aeb_score([(truth, truth)])
    assert (perfect.precision, perfect.recall, perfect.f1, perfect.accuracy) == (1.0, 1.0, 1.0, 1.0)
    half = aeb_score([(truth, "one two three four five"), (truth, "")])
    # doc 1: 2 true shingles found of 5, no false ones -> P 1, R 0.4; doc 2: no prediction -> R 0, no P
    assert half.precision == 1.0
    assert half.recall == pytest.approx(0.2)
    noisy = aeb_score([(truth, truth + " nine ten eleven twelve")])
    assert noisy.recall == 1.0 and noisy.precision == pytest.approx(5 / 9)


def test_snippet_score_pools_counts() -> None:
    score = snippet_score(
        [
            ("The   body text here.\nImpressum", ["body text", "missing part"], ["Impressum", "Twitter"]),
            (None, ["anything"], ["Menu"]),
        ]
    )
    # TP 1, FN 2, FP 1, TN 2
    assert score.precision == pytest.approx(0.5) and score.recall == pytest.approx(1 / 3)
    assert score.accuracy == pytest.approx(3 / 6)


# ---------------------------------------------------------------- commands


def _newsflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "COLUMNS": "200", **(env or {})}
    full.pop("DATABASE_URL", None)
    return subprocess.run([NEWSFLOW, *args], capture_output=True, text=True, env=full, timeout=300)


def test_extract_command_writes_one_json_object_per_file(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(news_page(ARTICLE), encoding="utf-8")
    (tmp_path / "b.html.gz").write_bytes(gzip.compress(news_page(ARTICLE[:2]).encode()))
    (tmp_path / "c.html").write_bytes(b"%PDF-1.4 not a page")
    done = _newsflow("extract", str(tmp_path / "a.html"), str(tmp_path / "b.html.gz"), str(tmp_path / "c.html"))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [Path(r["path"]).name for r in records] == ["a.html", "b.html.gz", "c.html"]
    first = records[0]
    for key in ("path", "url", "title", "authors", "published_at", "date_source", "language", "sitename", "text"):
        assert key in first
    assert first["text"].split("\n") == ARTICLE and first["published_at"] == "2025-06-14T05:30:00+00:00"
    assert records[1]["text"].split("\n") == ARTICLE[:2]
    assert records[2]["skip"] == "not_html"
    assert "ok=2" in done.stderr and "skip:not_html=1" in done.stderr
    one = _newsflow("extract", "--url", "https://news.example.com/x", str(tmp_path / "a.html"))
    assert json.loads(one.stdout)["url"] == "https://news.example.com/x"


def test_eval_extraction_command_on_a_small_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "extraction" / "aeb"
    (folder / "html").mkdir(parents=True)
    truth = {}
    for i, paragraphs in enumerate((ARTICLE, ARTICLE[1:3])):
        (folder / "html" / f"p{i}.html.gz").write_bytes(gzip.compress(news_page(paragraphs).encode()))
        truth[f"p{i}"] = {"articleBody": "\n".join(paragraphs), "url": f"https://news.example.com/s{i}"}
    (folder / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    done = _newsflow("eval", "extraction", "--dataset", "aeb", "--json", env={"NEWSFLOW_EVAL_DATA": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["pages"] == 2 and report["newsflow"]["f1"] == 1.0
    assert report["trafilatura default"]["f1"] < 1.0  # plain trafilatura keeps the teasers and the prompt
    missing = _newsflow("eval", "extraction", "--dataset", "aeb", env={"NEWSFLOW_EVAL_DATA": str(tmp_path / "no")})
    assert missing.returncode == 2 and "not found" in missing.stderr


# ---------------------------------------------------------------- the demo site


def test_demo_site_articles_extract_with_their_metadata() -> None:
    """Every loadable page of the demo site, fetched over HTTP on 127.0.0.1 and extracted together
    (as a batch of one site): title, person authors, publication time, body in, boilerplate out."""
    import httpx

    from pipeline.demo import DemoSite

    reference = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
    with DemoSite(reference_time=reference) as site, httpx.Client(timeout=5) as client:
        articles = [a for a in site.articles if a.kind in {"news", "copy", "aggregator", "offtopic"}]
        pages = [(client.get(site.url_for(a.slug)).content, site.url_for(a.slug)) for a in articles]
    results = extract_many(pages, now=reference)
    checked = 0
    for article, result in zip(articles, results, strict=True):
        assert isinstance(result, Extraction), (article.slug, result)
        assert result.title == article.title
        assert result.published_at == article.published_at, (article.slug, result.date_source)
        assert result.language == "en"
        if article.author and "staff" not in article.author:
            assert result.authors == [article.author]
        body = [p for p in article.body_paragraphs if p != "See more of the story"]
        for paragraph in body:
            assert paragraph in result.text, (article.slug, paragraph[:60])
        for junk in article.boilerplate:
            assert junk not in result.text, (article.slug, junk)
        checked += 1
    assert checked >= 15


def test_extract_command_uses_profiles_stored_in_the_database(conn, database_url: str, tmp_path: Path) -> None:
    pages = _site_pages()
    assert update_site_profile(conn, "example.com", [unfiltered_text(html) for html, _ in pages[:2]]) == 2
    (tmp_path / "page.html").write_text(pages[2][0], encoding="utf-8")
    args = ("extract", "--url", pages[2][1], str(tmp_path / "page.html"))
    with_db = subprocess.run(
        [NEWSFLOW, *args], capture_output=True, text=True, timeout=300, env={**os.environ, "DATABASE_URL": database_url}
    )
    assert with_db.returncode == 0, with_db.stderr
    assert SITE_PROMPT not in json.loads(with_db.stdout)["text"]
    without = _newsflow(*args)  # no database configured: the page alone cannot tell
    assert SITE_PROMPT in json.loads(without.stdout)["text"]
