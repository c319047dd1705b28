"""The whole job, in-process (`newsflow run`'s path), against the demo site served on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from pipeline import db
from pipeline.demo import DemoSite, feeds_yaml
from pipeline.jobs import maintenance, nightly
from pipeline.settings import Settings

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def demo_settings(database_url: str, feeds_file: Path, home: Path) -> Settings:
    return Settings(
        database_url=database_url,
        home=home,
        feeds_file=feeds_file,
        allow_private=("127.0.0.1",),
        per_host_delay_s=0.0,
        per_host_concurrency=4,
        retries=1,
        http_timeout_s=5.0,
    )


@pytest.fixture()
def demo(tmp_path: Path):
    with DemoSite(reference_time=NOW) as site:
        feeds = tmp_path / "feeds.yaml"
        # A feed that cannot be fetched (nothing listens there) and one the site does not have (404).
        config = yaml.safe_load(feeds_yaml(site))
        config["feeds"] += [
            {"name": "Gone", "url": f"{site.base_url}/feeds/missing.xml"},
            {"name": "Refused", "url": "http://127.0.0.1:9/feed.xml"},
        ]
        feeds.write_text(yaml.safe_dump(config), encoding="utf-8")
        yield site, feeds


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_run_loads_the_demo_site_once(demo, database_url, tmp_path, conn):
    site, feeds = demo
    settings = demo_settings(database_url, feeds, tmp_path / "home")
    report = nightly.run_once(settings, now=NOW, window_end=NOW)

    expected = [a for a in site.articles if a.kind in {"news", "copy", "aggregator", "offtopic"}]
    assert _count(conn, "articles") == len(expected)
    skips = report.skips()
    assert skips.get("fetch: http_500 (retried next run)") == 1, skips
    assert skips.get("extract: no_text", 0) + skips.get("extract: too_short", 0) == 1, skips
    assert sum(n for k, n in report.counts["poll"].items() if k.startswith("skip:")) == 2, report.counts["poll"]

    status = conn.execute("SELECT status FROM pipeline_runs WHERE id = %s", (report.run_id,)).fetchone()[0]
    assert status == "success"

    # The syndicated copy is linked to its original, which is named as the cluster's original.
    copy = next(a for a in site.articles if a.kind == "copy")
    row = conn.execute(
        """SELECT relation, original_url FROM v_articles WHERE url = %s""", (site.url_for(copy.slug),)
    ).fetchone()
    assert row == ("copy", site.url_for(copy.original_slug))
    # The event both report is one event with two mentions, and the copy is not a second source.
    shared = conn.execute(
        """SELECT mention_count, independent_sources FROM v_events
           WHERE article_ids @> (SELECT array_agg(id) FROM articles WHERE url = ANY(%s))""",
        ([site.url_for(copy.slug), site.url_for(copy.original_slug)],),
    ).fetchall()
    assert shared == [(2, 1)]

    # A second run finds nothing new and adds no rows anywhere.
    before = {t: _count(conn, t) for t in ("articles", "article_topics", "story_clusters", "events", "event_mentions")}
    conn.commit()
    second = nightly.run_once(settings, now=NOW, window_end=NOW)
    after = {t: _count(conn, t) for t in before}
    assert after == before
    assert second.counts.get("extract", {}).get("stored", 0) == 0


def test_extracted_text_is_clean_and_labelled(demo, database_url, tmp_path, conn):
    site, feeds = demo
    nightly.run_once(demo_settings(database_url, feeds, tmp_path / "home"), now=NOW, window_end=NOW)
    checked = 0
    for article in site.articles:
        if article.kind != "news":
            continue
        row = conn.execute(
            "SELECT va.title, a.text, va.topics, va.relevant FROM v_articles va JOIN articles a USING (id)"
            " WHERE va.url = %s",
            (site.url_for(article.slug),),
        ).fetchone()
        assert row is not None, article.slug
        title, text, topics, relevant = row
        assert title == article.title
        assert article.body_paragraphs[0][:80] in text
        for junk in article.boilerplate:
            assert junk not in text, (article.slug, junk)
        assert relevant is True
        assert set(article.topics) & set(topics), (article.slug, article.topics, topics)
        checked += 1
    assert checked >= 8
    off = [a for a in site.articles if a.kind == "offtopic"]
    flags = conn.execute(
        "SELECT relevant FROM articles WHERE url = ANY(%s)", ([site.url_for(a.slug) for a in off],)
    ).fetchall()
    assert flags and all(f[0] is False for f in flags)


def test_a_host_is_fetched_by_one_process_at_a_time(database_url):
    from pipeline.fetch.store import try_lock_host, unlock_host

    with db.connect(database_url, autocommit=True) as one, db.connect(database_url, autocommit=True) as two:
        assert try_lock_host(one, "news.example.com")
        assert not try_lock_host(two, "news.example.com"), "a second process must not take a held host"
        assert try_lock_host(two, "other.example.org")
        unlock_host(one, "news.example.com")
        assert try_lock_host(two, "news.example.com")
    with db.connect(database_url, autocommit=True) as three:  # a dead holder's hosts come back
        assert try_lock_host(three, "news.example.com") and try_lock_host(three, "other.example.org")


def test_a_failed_stage_leaves_its_work_pending_and_the_retry_does_it_once(demo, database_url, tmp_path, conn):
    """Extraction commits each batch with its raw pages' states; when classification then fails (here:
    the taxonomy file vanished), the articles wait unlabelled, and the retry labels each exactly once
    without downloading or extracting again."""
    from pipeline.errors import ConfigError

    site, feeds = demo
    settings = demo_settings(database_url, feeds, tmp_path / "home")
    broken = settings.with_overrides(topics_file=tmp_path / "missing-topics.yaml")
    run_id = nightly.begin_run(settings, "test")
    nightly.poll(settings, run_id, now=NOW, window_end=NOW)
    nightly.fetch_pending(settings, run_id)
    with pytest.raises(ConfigError):
        nightly.process_pending(broken, run_id)
    loadable = [a for a in site.articles if a.kind in {"news", "copy", "aggregator", "offtopic"}]
    assert _count(conn, "articles") == len(loadable)
    assert _count(conn, "article_classifications") == 0
    raw_pages = _count(conn, "raw_pages")
    assert raw_pages == len(loadable) + 1  # and the page with no text
    conn.commit()

    requests = len(site.request_log)
    retried = nightly.process_pending(settings, run_id)
    assert retried["classified"] == len(loadable) and "stored" not in retried
    assert nightly.process_pending(settings, run_id) == {}, "a second retry finds nothing to do"
    assert _count(conn, "articles") == _count(conn, "article_classifications") == len(loadable)
    assert _count(conn, "raw_pages") == raw_pages and len(site.request_log) == requests


def test_reextract_reads_stored_pages_and_never_downloads(demo, database_url, tmp_path, conn):
    site, feeds = demo
    settings = demo_settings(database_url, feeds, tmp_path / "home")
    nightly.run_once(settings, now=NOW, window_end=NOW)
    requests_before = len(site.request_log)
    # Pretend two articles came from an older extractor that kept junk.
    conn.execute("UPDATE articles SET text = 'junk from an old extractor', extractor = 'old/0' WHERE id IN (1, 2)")
    conn.commit()

    report = maintenance.reextract(settings)
    assert report.counts["extract"]["changed"] == 2
    assert len(site.request_log) == requests_before  # not one request to the site
    texts = [r[0] for r in conn.execute("SELECT text FROM articles WHERE id IN (1, 2)")]
    assert all("junk from an old extractor" not in t and len(t.split()) > 40 for t in texts)
    conn.commit()

    again = maintenance.reextract(settings)
    assert again.counts.get("extract", {}) == {}  # nothing stale any more
    everything = maintenance.reextract(settings, everything=True)
    assert everything.counts["extract"].get("changed", 0) == 0
