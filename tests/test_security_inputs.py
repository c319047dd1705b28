"""Hostile files: decompression bombs and oversized files are refused before they fill memory, a
missing path is an error, and a truncated, corrupt or garbage archive is counted and fails the run."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.cli.extract import read_html_file
from pipeline.errors import Skip
from pipeline.extract.decode import MAX_HTML_BYTES
from pipeline.sources.warc import read_warc

NEWSFLOW = str(Path(sys.executable).parent / "newsflow")


def newsflow(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NEWSFLOW, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200", **(env or {})})  # fmt: skip


def write_warc(path: Path, pages: int, *, compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=compress)
    for i in range(pages):
        body = f"<html><body><article><h1>Page {i}</h1><p>{'Words of an archived page. ' * 30}</p>"
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        record = writer.create_warc_record(f"http://news.example/{i}", "response",
                                           payload=io.BytesIO(body.encode()), http_headers=headers)  # fmt: skip
        writer.write_record(record)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def read_all(path: Path) -> tuple[int, Counter[str]]:
    counts: Counter[str] = Counter()
    pages = list(read_warc(path, counts, start=None, end=None, max_bytes=1_000_000))
    return len(pages), counts


def test_a_whole_archive_is_read_without_failures(tmp_path: Path) -> None:
    write_warc(tmp_path / "a.warc.gz", 10)
    assert read_all(tmp_path / "a.warc.gz") == (10, Counter())


@pytest.mark.parametrize("compress", [True, False])
def test_a_truncated_archive_is_counted(tmp_path: Path, compress: bool) -> None:
    data = write_warc(tmp_path / "full.warc", 30, compress=compress)
    cut = tmp_path / "cut.warc"
    cut.write_bytes(data[: len(data) // 2 + 7])
    pages, counts = read_all(cut)
    assert 0 < pages < 30
    assert counts["failed:truncated_archive"] + counts["failed:corrupt_archive"] == 1


def test_garbage_and_corrupt_archives_are_counted_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "garbage.warc").write_bytes(bytes(range(64)))
    assert read_all(tmp_path / "garbage.warc") == (0, Counter({"failed:corrupt_archive": 1}))
    data = bytearray(write_warc(tmp_path / "x.warc.gz", 30))
    data[len(data) // 2 : len(data) // 2 + 400] = b'"' * 400
    (tmp_path / "corrupt.warc.gz").write_bytes(bytes(data))
    pages, counts = read_all(tmp_path / "corrupt.warc.gz")
    assert pages < 30 and counts["failed:corrupt_archive"] == 1
    messages = [r.getMessage() for r in caplog.records if "corrupt" in r.getMessage()]
    assert messages and all("\n" not in m and '""""' not in m and len(m) < 400 for m in messages)


def test_backfill_of_a_truncated_archive_fails_the_run(tmp_path: Path, database_url: str) -> None:
    data = write_warc(tmp_path / "full.warc.gz", 20)
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) // 2])
    result = newsflow("backfill", "--source", f"warc:{cut}", "--no-process", env={"DATABASE_URL": database_url})
    assert result.returncode == 1, result.stderr[-2000:]
    assert "truncated_archive" in result.stdout and "Traceback" not in result.stderr
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT status FROM pipeline_runs ORDER BY id DESC LIMIT 1").fetchone()
        stored = conn.execute("SELECT count(*) FROM raw_pages").fetchone()
    assert row == ("failed",)
    assert stored is not None and 0 < stored[0] < 20  # what was read before the damage is kept


def test_gzip_bomb_stops_at_the_limit(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.html.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as stream:
        stream.write(b"<html><body><p>")
        for _ in range(MAX_HTML_BYTES // 1_000_000 + 5):
            stream.write(b"a" * 1_000_000)
    assert bomb.stat().st_size < MAX_HTML_BYTES // 100
    with pytest.raises(Skip, match="too_large"):
        read_html_file(bomb)


def test_an_oversized_file_is_refused_by_its_size(tmp_path: Path) -> None:
    huge = tmp_path / "huge.html"
    with huge.open("wb") as stream:  # sparse: 300 MB on paper, nothing on disk
        stream.truncate(300_000_000)
    with pytest.raises(Skip, match="too_large"):
        read_html_file(huge)


def test_extract_command_missing_path_is_an_error(tmp_path: Path) -> None:
    result = newsflow("extract", "--no-database", str(tmp_path / "nope.html"))
    assert result.returncode == 2 and "no such file" in result.stderr


def test_extract_command_counts_a_bomb_as_too_large(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"<html><body><p>" + b"a" * (MAX_HTML_BYTES + 10)))
    result = newsflow("extract", "--no-database", str(bomb))
    assert result.returncode == 0 and '"skip": "too_large"' in result.stdout
