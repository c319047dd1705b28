"""Backfill: load a date window of archive into newsflow, and find the days that need one.

Sources (`--source KIND:LOCATION`, the kind may be left out when the location makes it plain):

- `warc:PATH`     a WARC / WARC.gz file or a directory of them (CC-NEWS); window by WARC-Date;
- `sitemap:URL`   an XML sitemap, sitemap index or Google News sitemap (a site root: the sitemaps its
                  robots.txt names); window by news:publication_date, else lastmod;
- `html:DIR`      a directory of saved HTML pages (address from canonical / og:url); no window;
- `urls:FILE`     a file of URLs, one per line, optionally dated (`URL 2024-01-05`).

Archives become raw pages directly; sitemaps and URL lists go through the frontier and the polite
fetcher (`fetch_pending`, restricted to this source's rows, with the same per-host locks as every
other fetch). Pending raw pages are then extracted and classified by `process_pending`, one batch
(`Settings.batch_size` pages) per transaction: `backfill` COMMITS after every batch, so a long
backfill that stops keeps what it did, and a rerun of the same window loads nothing twice (raw pages
are keyed by normalized URL, articles by URL and content hash; each raw page records its extraction
state).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError, Skip
from pipeline.extract.core import extract_ahead
from pipeline.fetch.http import Fetcher, detect_charset, run_sync
from pipeline.fetch.store import (
    Conn,
    FrontierItem,
    add_to_frontier,
    frontier_states,
    store_raw_pages,
    write_fetch_log,
)
from pipeline.jobs.nightly import fetch_pending, link_and_find_events, process_pending
from pipeline.runs import start_run
from pipeline.settings import Settings
from pipeline.sources.files import read_html_dir, read_url_file
from pipeline.sources.sitemaps import SITEMAP_MAX_BYTES, SitemapEntry, SitemapWalk
from pipeline.sources.warc import read_warc, warc_files
from pipeline.urls import normalize_url

SOURCE_KINDS = ("warc", "sitemap", "html", "urls")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Source:
    kind: str
    location: str

    @property
    def label(self) -> str:
        return f"backfill:{self.kind}"


@dataclass(frozen=True)
class Window:
    start: datetime | None
    end: datetime | None  # exclusive


def parse_source(text: str) -> Source:
    """`kind:location`, or a bare location whose kind is plain (URL -> sitemap, *.warc.gz -> warc, ...)."""
    kind, sep, rest = text.partition(":")
    if sep and kind in SOURCE_KINDS:
        if not rest.strip():
            raise ConfigError(f"backfill source {text!r}: nothing after '{kind}:'")
        return Source(kind, rest.strip())
    if text.startswith(("http://", "https://")):
        return Source("sitemap", text)
    path = Path(text)
    if text.endswith((".warc", ".warc.gz")) or (path.is_dir() and any(path.rglob("*.warc*"))):
        return Source("warc", text)
    if path.is_dir():
        return Source("html", text)
    if path.is_file():
        return Source("urls", text)
    raise ConfigError(f"backfill source {text!r}: give KIND:LOCATION with KIND one of {', '.join(SOURCE_KINDS)}")


def day_window(date_from: date | None, date_to: date | None) -> Window:
    """Whole UTC days, both ends included."""
    if date_from and date_to and date_to < date_from:
        raise ConfigError(f"--to {date_to} is before --from {date_from}")
    start = datetime.combine(date_from, time(0), tzinfo=UTC) if date_from else None
    if date_to is not None and date_to >= date.max:
        raise ConfigError(f"--to {date_to}: leave --to out for no end")
    end = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=UTC) if date_to else None
    return Window(start, end)


def backfill(
    conn: Conn,
    settings: Settings,
    source: str | Source,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    run_id: int | None = None,
    process: bool = True,
    include_undated: bool = False,
    on_progress: Progress | None = None,
) -> dict[str, int]:
    """Load one source's window; commits per batch (see the module doc). Returns counts by outcome.

    An archive's extracted batches are linked and read for events as the load goes on (a batch each
    time, while the workers extract the next; skipped while another process holds that stage). What
    is still waiting at the end is for the caller's `pipeline.jobs.nightly.link_and_find_events`."""
    src = parse_source(source) if isinstance(source, str) else source
    window = day_window(date_from, date_to)
    job = _Job(conn, settings, src, window, run_id, process, on_progress)
    try:
        if src.kind in ("warc", "html"):
            job.load_pages()
        else:
            job.load_urls(include_undated)
    except Skip as exc:
        job.counts[f"skip:{exc.reason}"] += 1
        conn.rollback()
        raise
    return {key: n for key, n in job.counts.items() if n}


@dataclass
class _Job:
    conn: Conn
    settings: Settings
    source: Source
    window: Window
    run_id: int | None
    process: bool
    on_progress: Progress | None
    counts: Counter[str]

    def __init__(
        self, conn: Conn, settings: Settings, source: Source, window: Window, run_id: int | None,
        process: bool, on_progress: Progress | None,
    ) -> None:  # fmt: skip
        self.conn, self.settings, self.source, self.window = conn, settings, source, window
        self.run_id, self.process, self.on_progress = run_id, process, on_progress
        self.counts = Counter()

    def tick(self, outcome: str) -> None:
        if self.on_progress is not None:
            self.on_progress(outcome)

    # -- archives: WARC and saved HTML become raw pages here

    def load_pages(self) -> None:
        """Store the archive's pages a batch at a time (one query and one pipelined insert per batch).
        With extraction workers, the pool starts on each stored batch at once (`extract_ahead`) while
        this process extracts the batch before it and stores the next: both cores stay busy."""
        pending: list[dict[str, Any]] = []
        behind = False  # a stored batch waits for extraction
        for page in self._archived_pages():
            pending.append(page)
            if len(pending) >= self.settings.batch_size:
                self._store(pending)
                if behind:
                    self.flush(batches=1)
                behind, pending = True, []
        self._store(pending)
        self.flush()

    def _archived_pages(self) -> Iterable[dict[str, Any]]:
        location = Path(self.source.location).expanduser()
        limit = self.settings.max_page_bytes
        if self.source.kind == "html":
            for saved in read_html_dir(location, self.counts, limit):
                yield {"url": saved.url, "body": saved.body, "content_type": "text/html"}
            return
        for path in warc_files(location):
            self.counts["warc_files"] += 1
            for page in read_warc(path, self.counts, start=self.window.start, end=self.window.end, max_bytes=limit):
                yield {
                    "url": page.url, "body": page.body, "status": page.status, "content_type": page.content_type,
                    "charset": page.charset, "headers": page.headers, "fetched_at": page.fetched_at,
                }  # fmt: skip

    def _store(self, pages: list[dict[str, Any]]) -> None:
        """Store and commit these pages; start extracting the new ones in the workers."""
        for page in pages:
            if "charset" not in page:
                page["charset"] = detect_charset(page["body"])
        new: list[dict[str, Any]] = []
        for page, (raw_id, is_new) in zip(
            pages, store_raw_pages(self.conn, pages, source=self.source.label) if pages else [], strict=True
        ):
            self.counts["pages_stored" if is_new else "pages_already_stored"] += 1
            self.tick("stored" if is_new else "already_stored")
            if is_new and raw_id is not None:
                new.append(page)
        self.conn.commit()
        if self.process and new:
            extract_ahead([(p["body"], p.get("final_url") or normalize_url(p["url"])) for p in new],
                          [p["charset"] for p in new], workers=self.settings.extract_workers,
                          fast=self.settings.extract_fast)  # fmt: skip

    # -- URL sources: sitemaps and URL lists go through the frontier and the polite fetcher

    def load_urls(self, include_undated: bool) -> None:
        items = self._listed_urls(include_undated)
        added = add_to_frontier(self.conn, items)
        self.counts["urls_listed"] += len(items)
        self.counts["urls_new"] += added.get("new", 0)
        self.conn.commit()
        states = frontier_states(self.conn, [item.url for item in items])
        self.counts["already_fetched"] += states["fetched"]
        self.counts["skip:previously_skipped"] += states["skipped"]
        self.conn.commit()
        run_id = self.run_id if self.run_id is not None else self._own_run()
        try:
            self.counts.update(fetch_pending(self.settings, run_id, sources=[self.source.label]))
        finally:
            self.flush()

    def _listed_urls(self, include_undated: bool) -> list[FrontierItem]:
        label = self.source.label
        if self.source.kind == "urls":
            path = Path(self.source.location).expanduser()
            listed = read_url_file(path, self.counts, start=self.window.start, end=self.window.end)
            return [FrontierItem(u.url, label, published_hint=u.when) for u in listed]
        entries = run_sync(lambda: self._walk_sitemaps(include_undated))
        return [FrontierItem(e.url, label, title_hint=e.title, published_hint=e.when) for e in entries]

    async def _walk_sitemaps(self, include_undated: bool) -> list[SitemapEntry]:
        async with Fetcher(self.settings, max_bytes=max(SITEMAP_MAX_BYTES, self.settings.max_page_bytes)) as f:
            walk = SitemapWalk(f, self.window.start, self.window.end, self.counts, include_undated)
            found = await walk.run(self.source.location)
            write_fetch_log(self.conn, f.log, self.run_id)
            return found

    # -- extraction of a batch of raw pages, then commit

    def flush(self, batches: int | None = None) -> None:
        """Commit what was loaded, then extract (at most `batches` batches) and label whatever is
        pending (what was stored, and what an interrupted earlier run left); with `batches`, link and
        read events for as many batches too (the rest is the caller's, at the end)."""
        self.conn.commit()
        if self.process:
            run_id = self.run_id if self.run_id is not None else self._own_run()
            made = process_pending(self.settings, run_id, extract_batches=batches)
            self.counts["articles"] += made.get("stored", 0) + made.get("already_stored", 0)
            if batches is not None:
                link_and_find_events(self.settings, run_id, batches=batches)

    def _own_run(self) -> int:
        self.run_id = start_run(self.conn, "backfill", run_key=f"{self.source.kind}:{self.source.location}",
                                window_start=self.window.start, window_end=self.window.end)  # fmt: skip
        return self.run_id
