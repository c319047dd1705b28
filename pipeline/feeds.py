"""Stage 1: feeds -> frontier. Feed configuration, conditional polling with backoff, entry parsing.

Configuration (`config/feeds.yaml`)::

    defaults: {poll_interval: 1h}          # optional
    feeds:
      - name: Example News – Middle East
        url: https://example.com/rss/middle-east.xml
        poll_interval: 30m                 # optional: seconds, or 90s / 30m / 2h / 1d
        topics: [isis, syria]              # optional topic hints

Polling: a feed is due when `next_poll_at` is null or past (or `force`). The GET is conditional
(If-None-Match / If-Modified-Since) and the body's SHA-256 is compared with the last one, since some
servers send the same validators for a changed feed (and others fresh validators for the same
bytes). Failures are counted per feed as hard (404, 410, refused address, robots), soft (not a feed,
wrong content type, too large) or temporary (timeouts, 429, 5xx), and the next poll backs off
exponentially up to `MAX_BACKOFF` (30 days). No feed is ever dropped: `newsflow status` lists the
failing ones with their last error.

`poll_feeds` works in the caller's connection and does not commit.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import feedparser
import yaml

from pipeline.errors import ConfigError, Skip
from pipeline.fetch.http import Fetcher, FetchError, FetchResult, LogRow, run_sync
from pipeline.fetch.store import Conn, FrontierItem, add_to_frontier, write_fetch_log
from pipeline.settings import Settings
from pipeline.urls import normalize_url

DEFAULT_POLL_INTERVAL_S = 3600
MIN_POLL_INTERVAL_S = 60
MAX_BACKOFF = timedelta(days=30)
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, "
    "text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
FEED_LINK_TYPES = (
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json",
    "application/json", "application/xml", "text/xml",
)  # fmt: skip
HARD_REASONS = frozenset(
    {
        "invalid_url",
        "blocked_address",
        "robots_disallowed",
        "too_many_redirects",
        "redirect_loop",
        "bad_redirect",
    }
)
SOFT_REASONS = frozenset(
    {
        "not_a_feed",
        "bad_content_type",
        "too_large",
        "decompression_bomb",
        "bad_encoding",
        "unsupported_encoding",
    }
)
FEED_KEYS = frozenset({"name", "url", "poll_interval", "topics", "topic_hints"})
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_FEEDS_KEY = re.compile(r"^feeds:\s*(?:\[\s*\])?\s*(?:#.*)?$|^feeds:\s*(\S.*)$")
_TOP_LEVEL = re.compile(r"^[^\s#-]")


# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class FeedConfig:
    name: str
    url: str
    poll_interval_s: int = DEFAULT_POLL_INTERVAL_S
    topic_hints: tuple[str, ...] = ()


def parse_interval(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{where}: poll_interval must be seconds or like 30m / 2h / 1d, not {value!r}")
    match = _INTERVAL.match(str(value))
    if not match:
        raise ConfigError(f"{where}: poll_interval must be seconds or like 30m / 2h / 1d, not {value!r}")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds < MIN_POLL_INTERVAL_S:
        raise ConfigError(f"{where}: poll_interval {value!r} is under the minimum of {MIN_POLL_INTERVAL_S}s")
    return seconds


def load_feed_config(path: Path) -> list[FeedConfig]:
    """Read and check a feeds file; ConfigError names the file, line and key of any mistake."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the feeds file: {exc}") from exc
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("feeds", []), list):
        raise ConfigError(f"{path}: expected a mapping with a 'feeds:' list")
    unknown = set(data) - {"feeds", "defaults"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key(s) {sorted(unknown)} (known: defaults, feeds)")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict) or set(defaults) - {"poll_interval", "topics"}:
        raise ConfigError(f"{path}: 'defaults' may hold poll_interval and topics only")
    lines = _feed_lines(root)
    feeds = [_feed_entry(item, defaults, f"{path}:{lines.get(i, '?')}: feeds[{i}]")
             for i, item in enumerate(data.get("feeds") or [])]  # fmt: skip
    _check_unique(feeds, path)
    return feeds


def _feed_lines(root: yaml.Node | None) -> dict[int, int]:
    if not isinstance(root, yaml.MappingNode):
        return {}
    for key, value in root.value:
        if key.value == "feeds" and isinstance(value, yaml.SequenceNode):
            return {i: node.start_mark.line + 1 for i, node in enumerate(value.value)}
    return {}


def _feed_entry(item: Any, defaults: dict[str, Any], where: str) -> FeedConfig:
    if not isinstance(item, dict):
        raise ConfigError(f"{where}: expected a mapping with name and url, got {type(item).__name__}")
    unknown = set(item) - FEED_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)} (known: {', '.join(sorted(FEED_KEYS))})")
    for key in ("name", "url"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise ConfigError(f"{where}: '{key}' is required and must be text")
    try:
        url = normalize_url(item["url"])
    except Skip as exc:
        raise ConfigError(f"{where} ({item['name']}): bad url {item['url']!r}: {exc.detail}") from exc
    interval = item.get("poll_interval", defaults.get("poll_interval", DEFAULT_POLL_INTERVAL_S))
    topics = item.get("topics", item.get("topic_hints", defaults.get("topics", [])))
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ConfigError(f"{where} ({item['name']}): topics must be a list of names")
    return FeedConfig(item["name"].strip(), url, parse_interval(interval, f"{where} ({item['name']})"),
                      tuple(topics))  # fmt: skip


def _check_unique(feeds: list[FeedConfig], path: Path) -> None:
    seen: dict[str, str] = {}
    for feed in feeds:
        if feed.url in seen:
            raise ConfigError(f"{path}: feeds {seen[feed.url]!r} and {feed.name!r} have the same url {feed.url}")
        seen[feed.url] = feed.name


def sync_feeds(conn: Conn, path: Path) -> dict[str, int]:
    """Upsert the file's feeds; feeds no longer in it get in_config=false (never deleted). No commit."""
    feeds = load_feed_config(path)
    counts: Counter[str] = Counter()
    with conn.cursor() as cur:
        cur.execute("SELECT url, name, poll_interval_s, topic_hints, in_config FROM feeds")
        existing = {row[0]: row[1:] for row in cur.fetchall()}
        for feed in feeds:
            wanted = (feed.name, feed.poll_interval_s, list(feed.topic_hints), True)
            old = existing.get(feed.url)
            if old is not None and tuple(old) == wanted:
                counts["unchanged"] += 1
                continue
            cur.execute(
                """INSERT INTO feeds (name, url, poll_interval_s, topic_hints, in_config)
                   VALUES (%s, %s, %s, %s, true)
                   ON CONFLICT (url) DO UPDATE SET name = excluded.name,
                       poll_interval_s = excluded.poll_interval_s, topic_hints = excluded.topic_hints,
                       in_config = true""",
                (feed.name, feed.url, feed.poll_interval_s, list(feed.topic_hints)),
            )
            counts["added" if old is None else "updated"] += 1
        cur.execute(
            "UPDATE feeds SET in_config = false WHERE in_config AND NOT (url = ANY(%s))",
            ([f.url for f in feeds],),
        )
        counts["removed"] = cur.rowcount
    return {k: v for k, v in counts.items() if v}


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str | None
    published: datetime | None


@dataclass
class ParsedFeed:
    title: str | None
    entries: list[FeedEntry]
    bozo: str | None = None  # why the document is malformed, when it still gave entries
    skipped: Counter[str] = field(default_factory=Counter)


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Entries of an RSS 0.9x/1.0/2.0, Atom or JSON Feed document; Skip('not_a_feed') otherwise."""
    if body.lstrip()[:1] == b"{":
        return _parse_json_feed(body, url)
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    doc = feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    if not doc.get("version") and not doc.entries:
        reason = doc.get("bozo_exception")
        raise Skip("not_a_feed", f"{url}: {reason or 'no RSS/Atom root element'}")
    language = (doc.feed.get("language") or "")[:2].lower() or None
    parsed = ParsedFeed(doc.feed.get("title"), [], str(doc.get("bozo_exception")) if doc.bozo else None)
    for entry in doc.entries:
        _add_entry(parsed, _entry_link(entry), entry.get("title"), _entry_date(entry, language), url)
    return parsed


def _add_entry(parsed: ParsedFeed, link: str | None, title: Any, when: datetime | None, base: str) -> None:
    if not link:
        parsed.skipped["skip:entry_no_link"] += 1
        return
    try:
        target = normalize_url(link, base)
    except Skip:
        parsed.skipped["skip:entry_invalid_url"] += 1
        return
    text = title.strip()[:1000] if isinstance(title, str) and title.strip() else None
    parsed.entries.append(FeedEntry(target, text, when))


def _entry_link(entry: Any) -> str | None:
    """The article's address: FeedBurner's origLink, else the alternate link, else a permalink guid."""
    for key in ("feedburner_origlink", "origlink"):
        if entry.get(key):
            return str(entry[key]).strip()
    if entry.get("link"):
        return str(entry["link"]).strip()
    for link in entry.get("links", []):
        if link.get("href") and link.get("rel", "alternate") == "alternate":
            return str(link["href"]).strip()
    guid = entry.get("id")
    if guid and entry.get("guidislink", True) and str(guid).startswith(("http://", "https://")):
        return str(guid).strip()
    return None


def _entry_date(entry: Any, language: str | None) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # plain lookup: FeedParserDict maps updated -> published with a warning
        if value:
            year, month, day, hour, minute, second = value[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    for key in ("published", "updated", "created", "dc_date"):
        raw = dict.get(entry, key)
        if isinstance(raw, str) and raw.strip():
            return parse_loose_date(raw, language)
    return None


def parse_loose_date(raw: str, language: str | None = None) -> datetime | None:
    """A date in any common language/format ('Seg, 24 Set 2018 19:42:40 -0300'), as UTC; None if not one."""
    import dateparser  # slow to import; only feeds with non-RFC-822 dates need it

    options = {"TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DAY_OF_MONTH": "first"}
    langs = [language] if language and language != "en" else None
    found = dateparser.parse(raw.strip()[:100], languages=langs, settings=options)
    if found is None and langs:
        found = dateparser.parse(raw.strip()[:100], settings=options)
    return found.astimezone(UTC) if found is not None else None


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Skip("not_a_feed", f"{url}: invalid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        raise Skip("not_a_feed", f"{url}: JSON without an items list")
    parsed = ParsedFeed(doc.get("title") if isinstance(doc.get("title"), str) else None, [])
    base = doc.get("home_page_url") or url
    for item in doc["items"]:
        if not isinstance(item, dict):
            parsed.skipped["skip:entry_invalid"] += 1
            continue
        link = item.get("url") or item.get("external_url")
        if not link and str(item.get("id", "")).startswith(("http://", "https://")):
            link = item["id"]
        when = _iso_date(item.get("date_published") or item.get("date_modified"))
        _add_entry(parsed, link if isinstance(link, str) else None, item.get("title"), when, str(base))
    return parsed


def _iso_date(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        found = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return parse_loose_date(raw)
    return (found if found.tzinfo else found.replace(tzinfo=UTC)).astimezone(UTC)


# ---------------------------------------------------------------- polling


@dataclass(frozen=True)
class FeedRow:
    id: int
    url: str
    poll_interval_s: int
    etag: str | None
    last_modified: str | None
    last_body_hash: str | None
    failure_count: int


def due_feeds(conn: Conn, now: datetime, feed_ids: Sequence[int] | None, force: bool) -> list[FeedRow]:
    with conn.cursor() as cur:
        cur.execute(
            """SELECT id, url, poll_interval_s, etag, last_modified, last_body_hash, failure_count
               FROM feeds
               WHERE (%s::bigint[] IS NULL AND in_config OR id = ANY(%s::bigint[]))
                 AND (%s OR next_poll_at IS NULL OR next_poll_at <= %s)
               ORDER BY id""",
            (_ids(feed_ids), _ids(feed_ids), force, now),
        )
        return [FeedRow(*row) for row in cur.fetchall()]


def _ids(ids: Sequence[int] | None) -> list[int] | None:
    return list(ids) if ids is not None else None


def conditional_headers(feed: FeedRow) -> dict[str, str]:
    headers = {"Accept": FEED_ACCEPT}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    return headers


def failure_kind(reason: str, temporary: bool) -> str:
    if temporary or reason in ("dns_error",):
        return "temporary"
    if reason in SOFT_REASONS:
        return "soft"
    if reason in HARD_REASONS or reason.startswith("http_"):
        return "hard"
    return "soft"


def backoff_interval(poll_interval_s: int, failures: int, kind: str) -> timedelta:
    """The wait before the next poll after `failures` consecutive failures (capped at 30 days)."""
    factor = 4 if kind == "hard" else 2
    seconds = poll_interval_s * factor ** min(failures, 30)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


FeedOutcome = FetchResult | Skip | FetchError


def poll_feeds(
    conn: Conn,
    settings: Settings,
    *,
    now: datetime,
    window_end: datetime | None = None,
    run_id: int | None = None,
    feed_ids: Sequence[int] | None = None,
    force: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Poll the due feeds and put their new entry URLs into the frontier (no commit)."""
    feeds = due_feeds(conn, now, feed_ids, force)
    counts: Counter[str] = Counter()
    log: list[LogRow] = []
    if not feeds:
        return {}

    def done(feed: FeedRow, outcome: FeedOutcome) -> None:
        row, outcome_counts = handle_feed_outcome(conn, feed, outcome, now=now, window_end=window_end)
        counts.update(outcome_counts)
        log.append(row)
        if on_progress is not None:
            on_progress(row.outcome)

    robots_log = run_sync(lambda: _fetch_feeds(settings, feeds, done))
    write_fetch_log(conn, [*robots_log, *log], run_id)
    return dict(counts)


async def _fetch_feeds(
    settings: Settings, feeds: list[FeedRow], on_done: Callable[[FeedRow, FeedOutcome], None]
) -> list[LogRow]:
    import asyncio

    async def one(feed: FeedRow, f: Fetcher) -> tuple[FeedRow, FeedOutcome]:
        try:
            return feed, await f.get(feed.url, kind="feed", headers=conditional_headers(feed))
        except (Skip, FetchError) as exc:
            return feed, exc

    async with Fetcher(settings) as fetcher:
        tasks = [asyncio.ensure_future(one(feed, fetcher)) for feed in feeds]
        for next_done in asyncio.as_completed(tasks):
            feed, outcome = await next_done
            on_done(feed, outcome)
        return fetcher.log


def handle_feed_outcome(
    conn: Conn, feed: FeedRow, outcome: FeedOutcome, *, now: datetime, window_end: datetime | None
) -> tuple[LogRow, Counter[str]]:
    """Record one poll: feed state, frontier rows; returns the fetch_log row and the counts."""
    if isinstance(outcome, Skip | FetchError):
        return _record_failure(conn, feed, outcome, now)
    result = outcome
    counts: Counter[str] = Counter({"feeds_polled": 1})
    body_hash = hashlib.sha256(result.body).hexdigest() if result.body else None
    if result.not_modified or (body_hash is not None and body_hash == feed.last_body_hash):
        key = "not_modified" if result.not_modified else "unchanged"
        _record_success(conn, feed, result, now, body_hash=feed.last_body_hash, keep_validators=True)
        counts[f"feeds_{key}"] += 1
        return _log_row(feed, result, key), counts
    try:
        parsed = parse_feed(result.body, url=result.final_url, content_type=result.headers.get("content-type"))
    except Skip as exc:
        return _record_failure(conn, feed, exc, now, status=result.status)
    deferred = _queue_entries(conn, feed, parsed, window_end, counts)
    # Entries left for a later run must be seen again: then forget the validators and the hash.
    _record_success(conn, feed, result, now, body_hash=None if deferred else body_hash, keep_validators=False,
                    forget=deferred > 0)  # fmt: skip
    counts["feeds_ok"] += 1
    if parsed.bozo:
        counts["feeds_malformed_but_read"] += 1
    return _log_row(feed, result, "ok"), counts


def _queue_entries(
    conn: Conn, feed: FeedRow, parsed: ParsedFeed, window_end: datetime | None, counts: Counter[str]
) -> int:
    counts.update(parsed.skipped)
    taken = []
    deferred = 0
    for entry in parsed.entries:
        if window_end is not None and entry.published is not None and entry.published > window_end:
            deferred += 1
            continue
        taken.append(FrontierItem(entry.url, f"feed:{feed.id}", feed.id, entry.title, entry.published))
    counts["entries"] += len(parsed.entries)
    counts["entries_after_window"] += deferred
    added = add_to_frontier(conn, taken)
    counts["entries_new"] += added.get("new", 0)
    counts["entries_known"] += added.get("known", 0)
    return deferred


def _record_success(
    conn: Conn, feed: FeedRow, result: FetchResult, now: datetime, *, body_hash: str | None,
    keep_validators: bool, forget: bool = False,
) -> None:  # fmt: skip
    etag = feed.etag if keep_validators else result.headers.get("etag")
    modified = feed.last_modified if keep_validators else result.headers.get("last-modified")
    if forget:
        etag = modified = None
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE feeds SET etag = %s, last_modified = %s, last_body_hash = %s, last_status = %s,
                   last_polled_at = %s, last_success_at = %s, failure_count = 0, last_error = NULL,
                   next_poll_at = %s
               WHERE id = %s""",
            (etag, modified, body_hash, result.status, now, now,
             now + timedelta(seconds=feed.poll_interval_s), feed.id),
        )  # fmt: skip


def _record_failure(
    conn: Conn, feed: FeedRow, exc: Skip | FetchError, now: datetime, status: int | None = None
) -> tuple[LogRow, Counter[str]]:
    kind = failure_kind(exc.reason, isinstance(exc, FetchError))
    failures = feed.failure_count + 1
    wait = backoff_interval(feed.poll_interval_s, failures - 1, kind)
    code = status if status is not None else getattr(exc, "status", None)
    if code is None and exc.reason.startswith("http_") and exc.reason[5:].isdigit():
        code = int(exc.reason[5:])
    with conn.cursor() as cur:
        cur.execute(
            f"""UPDATE feeds SET failure_count = failure_count + 1,
                   {kind[:4]}_failures = {kind[:4]}_failures + 1, last_error = %s, last_status = %s,
                   last_polled_at = %s, next_poll_at = %s
               WHERE id = %s""",
            (f"{kind}: {exc}"[:1000], code, now, now + wait, feed.id),
        )
    counts: Counter[str] = Counter({"feeds_polled": 1, f"feeds_failed_{kind}": 1, f"skip:feed_{exc.reason}": 1})
    row = LogRow("feed", feed.url, None, code, exc.reason, exc.detail or None, None, None)
    return row, counts


def _log_row(feed: FeedRow, result: FetchResult, outcome: str) -> LogRow:
    return LogRow("feed", feed.url, result.final_url, result.status, outcome, None, len(result.body),
                  result.elapsed_ms)  # fmt: skip


# ---------------------------------------------------------------- discovery (`newsflow feeds add`)


def feed_links_in_html(body: bytes, base: str) -> list[str]:
    """The feed URLs a page announces with <link rel="alternate" type="application/rss+xml" ...>."""
    from lxml import html as lxml_html
    from lxml.etree import ParserError

    try:
        doc = lxml_html.document_fromstring(body)
    except (ParserError, ValueError):
        return []
    base_href = doc.xpath("string(//base/@href)") or base
    found: list[str] = []
    for link in doc.xpath("//link[@href]"):
        rels = (link.get("rel") or "").lower().split()
        ltype = (link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rels and ltype in FEED_LINK_TYPES:
            href = urljoin(urljoin(base, base_href), link.get("href").strip())
            if href not in found:
                found.append(href)
    return found


def discover_feed(settings: Settings, url: str) -> tuple[str, ParsedFeed]:
    """The feed at `url`, or the first working feed a homepage at `url` links to."""
    start = normalize_url(url)

    async def run() -> tuple[str, ParsedFeed]:
        async with Fetcher(settings) as fetcher:
            result = await fetcher.get(start, kind="feed", headers={"Accept": FEED_ACCEPT})
            try:
                ctype = result.headers.get("content-type")
                return result.final_url, parse_feed(result.body, url=result.final_url, content_type=ctype)
            except Skip:
                candidates = feed_links_in_html(result.body, result.final_url)
            errors = []
            for candidate in candidates:
                try:
                    found = await fetcher.get(candidate, kind="feed", headers={"Accept": FEED_ACCEPT})
                    ctype = found.headers.get("content-type")
                    return normalize_url(candidate), parse_feed(found.body, url=found.final_url, content_type=ctype)
                except (Skip, FetchError) as exc:
                    errors.append(f"{candidate}: {exc}")
            detail = "; ".join(errors) if errors else "the page links to no feed (<link rel=alternate>)"
            raise Skip("no_feed_found", f"{start}: {detail}")

    return run_sync(run)


def add_feed(conn: Conn, url: str, name: str, *, poll_interval_s: int = DEFAULT_POLL_INTERVAL_S,
             topics: Sequence[str] = ()) -> tuple[int, bool]:  # fmt: skip
    """Insert (or re-enable) one feed; returns (id, newly added)."""
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO feeds (name, url, poll_interval_s, topic_hints, in_config)
               VALUES (%s, %s, %s, %s, true)
               ON CONFLICT (url) DO UPDATE SET in_config = true
               RETURNING id, (xmax = 0)""",
            (name, url, poll_interval_s, list(topics)),
        )
        row = cur.fetchone()
    assert row is not None
    return int(row[0]), bool(row[1])


def append_to_config(path: Path, feed: FeedConfig) -> bool:
    """Add a feed to the feeds file as text, at the end of its `feeds:` block, keeping comments.

    False when the file lists the feed already. The result is checked by reading it back."""
    existing = {f.url for f in load_feed_config(path)} if path.exists() else set()
    if feed.url in existing:
        return False
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    entry = [f"  - name: {json.dumps(feed.name, ensure_ascii=False)}", f"    url: {feed.url}",
             f"    poll_interval: {feed.poll_interval_s}"]  # fmt: skip
    if feed.topic_hints:
        entry.append(f"    topics: {json.dumps(list(feed.topic_hints))}")
    head = next((i for i, line in enumerate(lines) if _FEEDS_KEY.match(line)), None)
    if head is None:
        lines += ["", "feeds:", *entry]
    else:
        flow = _FEEDS_KEY.match(lines[head])
        if flow is not None and flow.group(1):
            raise ConfigError(f"{path}:{head + 1}: write 'feeds:' as a block list to add feeds to it")
        lines[head] = "feeds:"
        end = next((i for i in range(head + 1, len(lines)) if _TOP_LEVEL.match(lines[i])), len(lines))
        while end > head + 1 and not lines[end - 1].strip():
            end -= 1
        lines[end:end] = entry
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_feed_config(path)
    return True
