"""WARC / WARC.gz reader (warcio): the archived HTTP responses of a window, as pages to store.

Common Crawl's CC-NEWS files are WARC.gz with one `response` record per page; `WARC-Date` is the
crawl time, which decides whether a record is inside the backfill window. Only 2xx HTML responses
are kept; every other record is counted by reason.
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeadersParserException

from pipeline.dates import parse_w3c_date
from pipeline.errors import Skip
from pipeline.fetch.http import content_type_ok, detect_charset, media_type
from pipeline.urls import normalize_url

log = logging.getLogger(__name__)

READ_CHUNK = 65536
KEPT_HEADERS = ("content-type", "content-language", "last-modified", "date")


@dataclass(frozen=True)
class ArchivedPage:
    url: str
    body: bytes
    status: int
    content_type: str | None
    charset: str | None
    headers: dict[str, str]
    fetched_at: datetime | None


def warc_files(location: Path) -> list[Path]:
    """The WARC files at a path: the file itself, or every *.warc / *.warc.gz under a directory."""
    if location.is_file():
        return [location]
    if location.is_dir():
        return sorted(p for p in location.rglob("*") if p.name.endswith((".warc", ".warc.gz")))
    raise Skip("source_missing", f"no WARC file or directory at {location}")


def read_warc(
    path: Path, counts: Counter[str], *, start: datetime | None, end: datetime | None, max_bytes: int
) -> Iterator[ArchivedPage]:
    """Yield the 2xx HTML responses whose WARC-Date is in [start, end); count the rest in `counts`.

    A file that ends inside a record, or that cannot be parsed from some record on, keeps the pages
    read before that point and is counted `failed:truncated_archive` / `failed:corrupt_archive` (with
    one warning line naming the file): the caller reports the run as failed, not as a success."""
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        records.loader = _RecordLoader(verify_http=False, arc2warc=False)  # ArchiveIterator's: HTTP/2 reads
        read, last = 0, None
        try:
            for record in records:
                if record.rec_type is None:  # no WARC-Type: not a WARC record, the rest is not either
                    _archive_failure(counts, path, "corrupt_archive", read, None)
                    return
                read, last = read + 1, record
                page = _page(record, counts, start, end, max_bytes)
                if page is not None:
                    yield page
        except WARC_PARSE_ERRORS as exc:  # warcio fails on bad input with these, AttributeError included
            _archive_failure(counts, path, "corrupt_archive", read, exc)
            return
        if (last is not None and getattr(last.raw_stream, "limit", 0) > 0) or records.offset < path.stat().st_size:
            _archive_failure(counts, path, "truncated_archive", read, None)
        elif read == 0:
            _archive_failure(counts, path, "corrupt_archive", read, None)


class _RecordLoader(ArcWarcRecordLoader):
    """warcio's record parser, except that a record without a WARC-Target-URI is read as a record (then
    skipped as `skip:invalid_url`) instead of ending the archive with an AttributeError: one bad record
    must not cost the records after it."""

    def load_http_headers(self, rec_type: str, uri: str | None, stream: Any, length: int | None) -> Any:
        return super().load_http_headers(rec_type, uri or "", stream, length)


WARC_PARSE_ERRORS = (ArchiveLoadFailed, StatusAndHeadersParserException, AttributeError, ValueError, IndexError,
                     EOFError, OSError, zlib.error)  # fmt: skip


def _archive_failure(counts: Counter[str], path: Path, reason: str, read: int, exc: BaseException | None) -> None:
    counts[f"failed:{reason}"] += 1
    cause = ""
    if exc is not None:
        first = (str(exc).strip().splitlines() or [""])[0].split(", first line:")[0]  # not the raw bytes
        cause = f": {type(exc).__name__}: " + first.encode("ascii", "replace").decode()[:120]
    log.warning("%s: %s after %d record(s)%s", path, reason.replace("_", " "), read, cause)


def _page(
    record: Any, counts: Counter[str], start: datetime | None, end: datetime | None, max_bytes: int
) -> ArchivedPage | None:
    if record.rec_type != "response":
        counts[f"warc_{record.rec_type}_records"] += 1
        return None
    when = parse_w3c_date(record.rec_headers.get_header("WARC-Date"))  # WARC-Date is W3C-DTF
    if when is not None and ((start and when < start) or (end and when >= end)):
        counts["skip:outside_window"] += 1
        return None
    try:
        return _response(record, when, max_bytes)
    except Skip as exc:
        counts[f"skip:{exc.reason}"] += 1
        return None


def _response(record: Any, when: datetime | None, max_bytes: int) -> ArchivedPage:
    target = record.rec_headers.get_header("WARC-Target-URI") or ""
    url = normalize_url(target.strip("<>"))
    if record.http_headers is None:
        raise Skip("warc_no_http", url)
    status = int(record.http_headers.get_statuscode() or 0)
    if not 200 <= status < 300:
        raise Skip(f"http_{status}", url)
    ctype = record.http_headers.get_header("Content-Type")
    if not content_type_ok("page", media_type(ctype)):
        raise Skip("bad_content_type", f"{ctype} at {url}")
    try:
        body = _read_limited(record.content_stream(), max_bytes)
    except (zlib.error, OSError, EOFError) as exc:
        raise Skip("bad_encoding", f"cannot decode the archived body of {url}: {exc}") from exc
    headers = {k.lower(): v for k, v in record.http_headers.headers if k.lower() in KEPT_HEADERS}
    return ArchivedPage(url, body, status, media_type(ctype), detect_charset(body, ctype), headers, when)


def _read_limited(stream: Any, max_bytes: int) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(READ_CHUNK)
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > max_bytes:
            raise Skip("too_large", f"archived body over {max_bytes} bytes")
        parts.append(chunk)
