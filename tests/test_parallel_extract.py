"""Extraction in worker processes gives the same database as extraction in-process, and an archive
loaded twice is not extracted twice (pages skipped as too short included)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pipeline import db
from pipeline.jobs.backfill import backfill
from pipeline.settings import Settings, load_settings

SITE = "https://wire.example"
FOOTER = "Subscribe to the Wire Example newsletter for the latest headlines from the region every morning."
WORDS = ["militia", "convoy", "ceasefire", "province", "harbour", "council", "drought", "market", "bridge", "ministry"]


def story(i: int, paragraphs: int) -> bytes:
    body = "".join(
        f"<p>{' '.join(WORDS[(i + j + k) % len(WORDS)] for k in range(14))} story {i} part {j}.</p>"
        for j in range(paragraphs)
    )
    return (
        f'<html><head><title>Story {i}</title><link rel="canonical" href="{SITE}/2024/05/story-{i}">'
        f'<meta property="article:published_time" content="2024-05-0{1 + i % 9}T08:00:00Z"></head>'
        f"<body><nav>Home World Region</nav><article><h1>Story {i}</h1>{body}<p>{FOOTER}</p></article>"
        "</body></html>"
    ).encode()


def write_pages(folder: Path) -> None:
    folder.mkdir()
    for i in range(9):
        (folder / f"story-{i}.html").write_bytes(story(i, 6))
    (folder / "short.html").write_bytes(story(99, 1))  # too short to be an article


@pytest.fixture()
def second_database(database_url: str) -> Iterator[str]:
    name = f"newsflow_t_{uuid.uuid4().hex[:12]}"
    admin_url = psycopg.conninfo.make_conninfo(database_url, dbname="postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield psycopg.conninfo.make_conninfo(database_url, dbname=name)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def snapshot(conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "articles": "SELECT url, title, published_at, language, word_count, content_hash, extractor FROM articles",
        "aliases": "SELECT u.url, a.url, u.kind FROM article_urls u JOIN articles a ON a.id = u.article_id",
        "pages": "SELECT url, extract_state, extract_reason, extracted_by FROM raw_pages",
        "profiles": "SELECT source, para_key, pages, words FROM site_paragraphs",
    }
    return {name: sorted(conn.execute(query).fetchall()) for name, query in queries.items()}


def run_backfill(url: str, home: Path, folder: Path, workers: int) -> tuple[dict[str, int], dict[str, Any]]:
    settings = Settings(database_url=url, home=home, batch_size=4, workers=workers)
    with db.connect(url) as conn:
        db.migrate(conn)
        counts = backfill(conn, settings, f"html:{folder}")
        return counts, snapshot(conn)


def test_two_workers_give_the_same_database_as_one(database_url: str, second_database: str, tmp_path: Path) -> None:
    write_pages(tmp_path / "pages")
    one_counts, one = run_backfill(database_url, tmp_path / "home1", tmp_path / "pages", workers=1)
    two_counts, two = run_backfill(second_database, tmp_path / "home2", tmp_path / "pages", workers=2)
    assert len(one["articles"]) == 9 and one_counts["articles"] == 9
    assert [row[1:3] for row in one["pages"] if row[1] == "skipped"] == [("skipped", "too_short")]
    assert one["profiles"], "the site profile learned from the batch"
    assert one_counts == two_counts
    assert one == two


def test_a_rerun_of_an_archive_extracts_nothing_again(conn: Any, database_url: str, tmp_path: Path) -> None:
    write_pages(tmp_path / "pages")
    settings = Settings(database_url=database_url, home=tmp_path / "home", batch_size=4, workers=1)
    backfill(conn, settings, f"html:{tmp_path / 'pages'}")
    extracted_at = conn.execute("SELECT url, extracted_at FROM raw_pages ORDER BY url").fetchall()
    again = backfill(conn, settings, f"html:{tmp_path / 'pages'}")
    assert again.get("pages_stored", 0) == 0 and again["pages_already_stored"] == 10
    assert again.get("articles", 0) == 0  # nothing extracted: the too-short page remembers why
    assert conn.execute("SELECT url, extracted_at FROM raw_pages ORDER BY url").fetchall() == extracted_at


def test_workers_setting_from_the_environment() -> None:
    assert load_settings({"NEWSFLOW_WORKERS": "3"}).extract_workers == 3
    assert load_settings({"NEWSFLOW_WORKERS": "1"}).extract_workers == 1
    assert load_settings({}).extract_workers >= 1


def test_work_started_ahead_is_taken_and_gives_the_same_results(tmp_path: Path) -> None:
    from pipeline.extract import parallel
    from pipeline.extract.core import Extraction, extract_ahead, extract_many

    pages = [(story(i, 6), f"{SITE}/2024/05/story-{i}") for i in range(6)]
    in_process = extract_many(pages, workers=1)
    extract_ahead(pages[:4], [None] * 4, workers=2)
    assert len(parallel._AHEAD) == 4
    ahead = extract_many(pages, workers=2)  # four started ahead, two computed now
    assert not parallel._AHEAD  # every page started ahead was taken
    assert all(isinstance(r, Extraction) for r in ahead)
    assert [(r.text, r.title, r.published_at) for r in ahead] == [(r.text, r.title, r.published_at) for r in in_process]  # type: ignore[union-attr]


def test_work_started_ahead_in_one_mode_is_not_taken_by_the_other() -> None:
    from pipeline.extract import parallel
    from pipeline.extract.core import Extraction, extract_ahead, extract_many

    pages = [(story(i, 6), f"{SITE}/2024/06/story-{i}") for i in range(4)]
    extract_ahead(pages, [None] * 4, workers=2, fast=True)
    assert len(parallel._AHEAD) == 4
    thorough = extract_many(pages, workers=2)
    assert len(parallel._AHEAD) == 4  # the fast results are left for a fast extraction
    fast = extract_many(pages, workers=2, fast=True)
    assert not parallel._AHEAD
    assert all(isinstance(r, Extraction) for r in thorough + fast)
    assert load_settings({"NEWSFLOW_EXTRACT_FAST": "yes"}).extract_fast
    assert not load_settings({}).extract_fast
