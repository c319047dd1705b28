"""The demo with two outlets: one event reported by the Levant Ledger (127.0.0.1) and, in other words, by
the Tigris Tribune (127.0.0.2) lands as one event with two independent sources."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from pipeline.demo import DemoSite, feeds_yaml
from pipeline.demo.outlets import SECOND_HOST
from pipeline.jobs import nightly
from pipeline.settings import Settings

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_the_second_outlet_serves_its_own_feed_and_article():
    with DemoSite(reference_time=NOW, outlets=2) as site:
        assert site.second is not None and site.second.base_url.startswith(f"http://{SECOND_HOST}:")
        assert site.second.rss_url in feeds_yaml(site)
        (article,) = site.second.articles
        page = httpx.get(article.url, timeout=5)
        feed = httpx.get(site.second.rss_url, timeout=5)
        assert page.status_code == 200 and "Hamreen" in page.text
        assert article.url in feed.text
    assert DemoSite(reference_time=NOW).second is None  # one outlet unless asked


def test_one_event_two_outlets_two_independent_sources(database_url, tmp_path, conn):
    with DemoSite(reference_time=NOW, outlets=2) as site:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(feeds_yaml(site), encoding="utf-8")
        settings = Settings(
            database_url=database_url,
            home=tmp_path / "home",
            feeds_file=feeds,
            allow_private=("127.0.0.1", SECOND_HOST),
            per_host_delay_s=0.0,
            per_host_concurrency=4,
            retries=1,
            http_timeout_s=5.0,
        )
        nightly.run_once(settings, now=NOW, window_end=NOW)
        tribune = site.second.articles[0] if site.second else None
        ledger = site.url_for(tribune.same_event_as) if tribune else ""
    assert tribune is not None
    rows = conn.execute(
        """SELECT event_type, place, geo_precision, killed, independent_sources, sources FROM v_events
           WHERE article_ids @> (SELECT array_agg(id) FROM articles WHERE url = ANY(%s))""",
        ([ledger, tribune.url],),
    ).fetchall()
    assert len(rows) == 1, rows
    event_type, place, precision, killed, sources, outlets = rows[0]
    assert (event_type, place, precision, killed) == ("Explosions/Remote violence", "Hamrin Mountains", "region", 9)
    assert sources == 2 and set(outlets) == {"127.0.0.1", SECOND_HOST}
