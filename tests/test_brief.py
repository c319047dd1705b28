"""The daily brief against a real PostgreSQL, then opened in a real headless browser (Debian's
chromium, installed by `./dev.sh setup`; the browser tests skip with the reason where it is absent)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from analyst_world import DAY, add_coordinates, seed

from pipeline.analysis.brief import NO_GEOCODED_EVENTS, build_brief, render_html, write_brief
from pipeline.errors import ConfigError

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def test_brief_has_the_days_stories_timeline_and_events(conn: Any) -> None:
    ids = seed(conn)
    brief = build_brief(conn, DAY, days=7)
    (topic, stories), *rest = brief.stories_by_topic()
    assert topic == "attacks" and not rest
    # one story per cluster: the wire original with its copy counted, and the independent local report
    assert [(s["id"], s["copies"], s["copy_outlets"]) for s in stories] == [
        (ids["wire"], 1, ["paper.example"]),
        (ids["local"], 0, []),
    ]
    assert brief.off_topic == 1  # the football story
    assert (DAY, "attacks", 2) in brief.timeline
    (event,) = brief.events
    assert event["place"] == "Deir ez-Zor" and event["independent_sources"] == 2 and event["killed"] == 4
    assert event["independent_outlets"] == ["local.example", "wire.example"]
    assert brief.notes == [NO_GEOCODED_EVENTS] and brief.geocoded() == []
    page = render_html(brief)
    assert "Islamic State fighters attacked" in page and "1 copy: paper.example" in page
    assert "2: local.example, wire.example (copies: paper.example)" in page  # independent sources, then copies
    assert NO_GEOCODED_EVENTS in page and 'class="event"' not in page
    assert '<svg id="timeline"' in page and 'class="series" data-topic="attacks"' in page
    assert not re.search(r"""(src|href)=["']?https?://(?!www\.wire|paper|local)""", page)  # nothing fetched
    assert "<script" not in page


def test_brief_map_uses_coordinates_when_v_events_has_them(conn: Any) -> None:
    seed(conn)
    add_coordinates(conn, {"Deir ez-Zor": (35.33, 40.14)})
    brief = build_brief(conn, DAY, days=3)
    assert brief.has_coordinates and [e["place"] for e in brief.geocoded()] == ["Deir ez-Zor"]
    assert brief.notes == []
    page = render_html(brief)
    assert page.count('class="event"') == 1 and "SYRIA" in page
    assert re.search(r">\d+°E<", page) and re.search(r">3\d°N<", page)  # the grid around the event
    dot = re.search(r'class="event" cx="([\d.]+)" cy="([\d.]+)"', page)
    assert dot and 0 < float(dot[1]) < 1000 and 0 < float(dot[2]) < 520
    conn.execute("UPDATE events SET lat = NULL, lon = NULL")
    conn.commit()
    assert build_brief(conn, DAY, days=3).notes == [NO_GEOCODED_EVENTS]


def test_brief_defaults_and_errors(conn: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no dated articles"):
        build_brief(conn)
    seed(conn)
    assert build_brief(conn).day == DAY  # the latest day with articles
    with pytest.raises(ConfigError, match="--days"):
        build_brief(conn, DAY, days=0)
    written = write_brief(conn, tmp_path, date(2024, 3, 4), days=2)
    assert written.path == tmp_path / "brief-2024-03-04.html" and "هجوم" not in written.path.read_text()
    assert list(tmp_path.iterdir()) == [written.path]  # the arabic story has no topic: not shown, no partial file


def test_brief_command_writes_into_the_brief_dir(database_url: str, conn: Any, tmp_path: Path) -> None:
    from test_cli import newsflow

    seed(conn)
    env = {"DATABASE_URL": database_url, "NEWSFLOW_BRIEF_DIR": str(tmp_path / "briefs")}
    result = newsflow("brief", "--days", "3", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "briefs" / f"brief-{DAY}.html").exists() and "2 stories, 1 events" in result.stdout
    assert "coordinates" in result.stderr  # the note about the map


# ---------------------------------------------------------------- in a real browser


def _chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "chromium-profile"
    command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def png_colours(path: Path) -> int:
    """Distinct colours of an 8-bit RGB or RGBA PNG (what chromium writes), read with zlib alone."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        chunks += [body] if kind == b"IDAT" else []
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6), (depth, colour_type)
    bpp = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * bpp
    previous, colours = bytearray(stride), set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        colours.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp))
        previous = line
    return len(colours)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (./dev.sh setup installs it where apt works)")
def test_brief_renders_in_a_headless_browser(conn: Any, tmp_path: Path) -> None:
    seed(conn)
    add_coordinates(conn, {"Deir ez-Zor": (35.33, 40.14)})
    page = write_brief(conn, tmp_path / "brief.html", DAY, days=7).path
    assert page is not None
    dom = _chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path)
    assert dom.returncode == 0, dom.stderr[-2000:]
    # what the browser built from the file: the chart's lines and points, the map's grid and event dots
    assert re.search(r'<svg id="timeline".*?<polyline class="series"', dom.stdout, re.S)
    assert len(re.findall(r"<circle [^>]*r=\"3\"", dom.stdout)) == 7  # a point per day of the one topic
    assert re.search(r'<svg id="map".*?<line class="grid".*?<circle class="event"', dom.stdout, re.S)
    assert "Deir ez-Zor" in dom.stdout
    shot = tmp_path / "brief.png"
    result = _chromium(f"--screenshot={shot}", "--window-size=1100,1400", "--hide-scrollbars", page.as_uri(),
                       tmp_path=tmp_path)  # fmt: skip
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    assert png_colours(shot) > 50  # text, lines, the map's background and dots: far from a blank page


def test_png_reader_counts_colours(tmp_path: Path) -> None:
    """The reader used above, on PNGs written here: one colour, then two."""

    def png(rows: list[bytes]) -> bytes:
        def chunk(kind: bytes, body: bytes) -> bytes:
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

        ihdr = struct.pack(">IIBBBBB", len(rows[0]) // 3, len(rows), 8, 2, 0, 0, 0)
        idat = zlib.compress(b"".join(b"\x00" + r for r in rows))
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")

    (tmp_path / "one.png").write_bytes(png([b"\xff\xff\xff" * 4] * 3))
    (tmp_path / "two.png").write_bytes(png([b"\xff\xff\xff" * 3 + b"\x00\x00\x00"] * 3))
    assert png_colours(tmp_path / "one.png") == 1
    assert png_colours(tmp_path / "two.png") == 2


def test_a_story_copied_today_shows_when_its_original_appeared(conn: Any) -> None:
    ids = seed(conn)
    conn.execute("UPDATE articles SET published_at = published_at - interval '2 days' WHERE id = %s", (ids["wire"],))
    conn.commit()
    brief = build_brief(conn, DAY, days=3)
    story = next(s for s in brief.stories if s["id"] == ids["wire"])  # today only through its copy
    assert story["copies"] == 1 and "first reported 2024-03-03 08:00" in render_html(brief)
