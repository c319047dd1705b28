"""The daily brief: one self-contained HTML file (inline CSS and SVG, no script, no network) with the
day's stories by topic, a timeline of stories per topic over the last N days, the events table with
casualties and independent sources, and a map of the geocoded events.

`build_brief(conn, day, days)` reads the data (`Brief`); `render_html(brief)` turns it into HTML. The
chart and the map are SVG drawn here. The map needs no tile server: its background is a latitude/
longitude grid, and each event with coordinates (`v_events.lat`/`lon`, added by the event-coordinates
migration) is a dot sized by its independent sources and labelled with its place. Where `v_events`
has no coordinates, or no event of the window has any, the map says so instead of drawing dots.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.analysis import queries
from pipeline.analysis.queries import Conn
from pipeline.errors import ConfigError

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
           "#7f7f7f")  # fmt: skip
GRID_TEXT = 'font-size="10" fill="#6a7f8c"'
NO_COORDINATE_COLUMNS = "v_events has no lat/lon columns in this database yet: events cannot be placed on the map."
NO_GEOCODED_EVENTS = "No event of these days has coordinates (its place was not geocoded)."


@dataclass
class Brief:
    day: date
    days: int
    topics: dict[str, str]  # id -> label
    stories: list[dict[str, Any]]  # the day's stories (queries.day_stories)
    off_topic: int  # articles of the day with no topic (not shown)
    timeline: list[tuple[date, str, int]]  # (day, topic, stories)
    events: list[dict[str, Any]]  # queries.window_events
    has_coordinates: bool  # v_events has lat/lon
    notes: list[str] = field(default_factory=list)
    path: Path | None = None  # where write_brief wrote it

    @property
    def first(self) -> date:
        return self.day - timedelta(days=self.days - 1)

    def stories_by_topic(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """Each story under its best topic; topics with the most stories first, stories with the most
        copies first (originals only: a copy is shown as a count and an outlet under its original)."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for story in self.stories:
            if story["topics"]:
                grouped.setdefault(story["topics"][0], []).append(story)
        return sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[0]))

    def geocoded(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["lat"] is not None and e["lon"] is not None]


def build_brief(conn: Conn, day: date | None = None, days: int = 7) -> Brief:
    """The brief of `day` (default: the latest day with an article), its timeline and events over the
    `days` days that end on it."""
    if days < 1:
        raise ConfigError(f"brief --days {days}: give 1 or more")
    if day is None:
        day = queries.latest_day(conn)
        if day is None:
            raise ConfigError("brief: the database has no dated articles yet (load some, or give --date)")
    first = day - timedelta(days=days - 1)
    columns = queries.event_columns(conn)
    has_coordinates = {"lat", "lon"} <= columns
    brief = Brief(
        day=day,
        days=days,
        topics=queries.topic_labels(conn),
        stories=queries.day_stories(conn, day),
        off_topic=queries.off_topic_count(conn, day),
        timeline=queries.topic_timeline(conn, first, day),
        events=queries.window_events(conn, first, day, columns),
        has_coordinates=has_coordinates,
    )
    if not has_coordinates:
        brief.notes.append(NO_COORDINATE_COLUMNS)
    elif not brief.geocoded():
        brief.notes.append(NO_GEOCODED_EVENTS)
    return brief


def write_brief(conn: Conn, path: Path, day: date | None = None, days: int = 7) -> Brief:
    """Build the brief and write it to `path` (a file, or a folder to put `brief-DAY.html` in, made
    when missing), atomically: a reader never sees half a file."""
    brief = build_brief(conn, day, days)
    folder = path.is_dir() or not path.suffix  # a folder, or a path without .html: a folder to make
    target = path / f"brief-{brief.day}.html" if folder else path
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(render_html(brief), encoding="utf-8")
    partial.replace(target)
    brief.path = target
    return brief


# ---------------------------------------------------------------- HTML

CSS = """
body{font:14px/1.45 "DejaVu Sans",Arial,sans-serif;margin:24px auto;max-width:1080px;color:#222;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;border-bottom:2px solid #333;padding-bottom:2px;margin-top:28px}
h3{font-size:15px;margin:16px 0 4px}.muted{color:#666}.story{margin:6px 0 6px 0}.story a{color:#0b4f8a}
.copies{color:#555;font-size:12px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f3f3f3}
td.n{text-align:right}.note{background:#fff6d6;border:1px solid #e6d27a;padding:6px 10px}
svg text{font-family:"DejaVu Sans",Arial,sans-serif}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def render_html(brief: Brief) -> str:
    """The brief as one HTML document that needs nothing else to open."""
    title = f"newsflow brief {brief.day}"
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>',
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">Stories of {brief.day} (UTC); timeline, events and map over {brief.first} .. '
        f"{brief.day} ({brief.days} days). Generated by newsflow from the analyst views.</p>",
        _stories_html(brief),
        "<h2>Stories per topic, day by day</h2>",
        timeline_svg(brief),
        "<h2>Events</h2>",
        _events_html(brief),
        "<h2>Map of events</h2>",
        *[f'<p class="note">{_e(n)}</p>' for n in brief.notes],
        map_svg(brief),
        "</body></html>",
    ]
    return "\n".join(parts)


def _stories_html(brief: Brief) -> str:
    grouped = brief.stories_by_topic()
    out = [f"<h2>The day's stories ({sum(len(s) for _, s in grouped)})</h2>"]
    if not grouped:
        out.append('<p class="note">No labelled story on this day.</p>')
    for topic, stories in grouped:
        out.append(f'<h3 id="topic-{_e(topic)}">{_e(brief.topics.get(topic, topic))} ({len(stories)})</h3>')
        for s in stories:
            when = _when(s["published_at"], brief.day)
            other = [brief.topics.get(t, t) for t in s["topics"][1:]]
            copies = ""
            if s["copies"]:
                copies = (f'<div class="copies">{s["copies"]} cop{"y" if s["copies"] == 1 else "ies"}: '
                          f"{_e(', '.join(s['copy_outlets']))}</div>")  # fmt: skip
            out.append(
                f'<div class="story"><a href="{_e(s["url"])}">{_e(s["title"] or s["url"])}</a> '
                f'<span class="muted">{_e(s["source"])}, {when}'
                f"{'; also ' + _e(', '.join(other)) if other else ''}</span>{copies}</div>"
            )
    if brief.off_topic:
        out.append(f'<p class="muted">{brief.off_topic} article(s) of the day have no topic and are not shown.</p>')
    return "\n".join(out)


def _when(published: datetime | None, day: date) -> str:
    """The time of a story of the day; the date too when its original appeared on another day."""
    if published is None:
        return "undated"
    utc = published.astimezone(UTC)
    return utc.strftime("%H:%M") if utc.date() == day else utc.strftime("first reported %Y-%m-%d %H:%M")


def _events_html(brief: Brief) -> str:
    if not brief.events:
        return '<p class="note">No event in these days.</p>'
    head = ("date", "event", "place", "actors", "killed", "injured", "detained", "mentions", "independent sources")
    rows = [f'<table id="events"><tr>{"".join(f"<th>{h}</th>" for h in head)}</tr>']
    for e in brief.events:
        kind = e["event_type"] + (f" ({e['sub_event_type']})" if e["sub_event_type"] else "")
        actors = [a for a in (e["actor1"], e["actor2"]) if a] or list(e["actors"] or [])
        place = ", ".join(p for p in (e["place"], e["country"]) if p)
        independent = e["independent_outlets"] or []
        copies = [s for s in sorted(e["sources"] or []) if s not in independent]
        sources = ", ".join(independent) + (f" (copies: {', '.join(copies)})" if copies else "")
        cells = [
            _e(e["event_date"]), _e(kind), _e(place), _e(", ".join(actors)),
            *(f'<td class="n">{_e(e[k])}</td>' for k in ("killed", "injured", "detained", "mention_count")),
            f"{e['independent_sources']}: {_e(sources)}",
        ]  # fmt: skip
        rows.append("<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in cells) + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)


# ---------------------------------------------------------------- SVG


def timeline_svg(brief: Brief, width: int = 1000, height: int = 280) -> str:
    """A line per topic: stories per day over the brief's days, with a legend."""
    days = [brief.first + timedelta(days=i) for i in range(brief.days)]
    series: dict[str, dict[date, int]] = {}
    for d, topic, n in brief.timeline:
        series.setdefault(topic, {})[d] = n
    left, right, top, bottom = 44, 300, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([n for s in series.values() for n in s.values()] or [0])
    ymax = max(1, peak)
    step = max(1, math.ceil(ymax / 5))

    def x(i: int) -> float:
        return left + (plot_w * i / (len(days) - 1) if len(days) > 1 else plot_w / 2)

    def y(n: float) -> float:
        return top + plot_h - plot_h * n / (math.ceil(ymax / step) * step)

    out = [f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="stories per topic per day">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']  # fmt: skip
    for tick in range(0, math.ceil(ymax / step) * step + 1, step):
        ty = y(tick)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e3e3e3"/>'
                   f'<text x="{left - 6}" y="{ty + 4:.1f}" font-size="11" text-anchor="end">{tick}</text>')  # fmt: skip
    label_every = max(1, math.ceil(len(days) / 10))
    for i, d in enumerate(days):
        if i % label_every == 0 or i == len(days) - 1:
            out.append(f'<text x="{x(i):.1f}" y="{height - 12}" font-size="11" text-anchor="middle">'
                       f"{d.strftime('%m-%d')}</text>")  # fmt: skip
    if not series:
        out.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="#666">'
                   "no labelled stories in these days</text>")  # fmt: skip
    ranked = sorted(series, key=lambda t: (-sum(series[t].values()), t))
    for k, topic in enumerate(ranked):
        colour = PALETTE[k % len(PALETTE)]
        points = [(x(i), y(series[topic].get(d, 0))) for i, d in enumerate(days)]
        full = brief.topics.get(topic, topic)
        label = _e(full if len(full) <= 34 else full[:33] + "…")
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(f'<polyline class="series" data-topic="{_e(topic)}" points="{path}" fill="none" '
                   f'stroke="{colour}" stroke-width="2"/>')  # fmt: skip
        for (px, py), d in zip(points, days, strict=True):
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"><title>{_e(full)} {d}: '
                       f"{series[topic].get(d, 0)}</title></circle>")  # fmt: skip
        ly = top + 14 + 18 * k
        out.append(f'<rect x="{width - right + 16}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{width - right + 34}" y="{ly + 1}" font-size="12">{label} '
                   f"({sum(series[topic].values())})</text>")  # fmt: skip
    out.append("</svg>")
    return "\n".join(out)


def map_svg(brief: Brief, width: int = 1000, height: int = 520) -> str:
    """The geocoded events on a latitude/longitude grid (equirectangular, scaled for the middle
    latitude); dot area grows with independent sources, colour marks events with deaths."""
    points = brief.geocoded()
    height = height if points else min(height, 300)  # only the grid and the note above it
    lats = [float(e["lat"]) for e in points] or [34.5]  # no points: the grid around Syria and Iraq
    lons = [float(e["lon"]) for e in points] or [40.5]
    lat0, lat1 = min(lats) - 1.0, max(lats) + 1.0
    lon0, lon1 = min(lons) - 1.0, max(lons) + 1.0
    lat0, lat1 = _widen(lat0, lat1, 6.0)
    lon0, lon1 = _widen(lon0, lon1, 8.0)
    squeeze = math.cos(math.radians((lat0 + lat1) / 2))
    scale = min((width - 60) / ((lon1 - lon0) * squeeze), (height - 40) / (lat1 - lat0))
    cx, cy = (lon0 + lon1) / 2, (lat0 + lat1) / 2

    def project(lat: float, lon: float) -> tuple[float, float]:
        return width / 2 + (lon - cx) * squeeze * scale, height / 2 - (lat - cy) * scale

    out = [f'<svg id="map" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="map of events">',
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#eef3f6"/>']  # fmt: skip
    # the grid covers what is visible: the projection fills one axis, the other shows more than the box
    lon0, lon1 = cx - width / 2 / (squeeze * scale), cx + width / 2 / (squeeze * scale)
    lat0, lat1 = cy - height / 2 / scale, cy + height / 2 / scale
    grid = _grid_step(max(lat1 - lat0, lon1 - lon0))
    for lon in _range(lon0, lon1, grid):
        gx, _ = project(lat0, lon)
        out.append(f'<line class="grid" x1="{gx:.1f}" x2="{gx:.1f}" y1="0" y2="{height}" stroke="#c9d5dd"/>'
                   f'<text x="{gx + 2:.1f}" y="{height - 4}" {GRID_TEXT}>{lon:g}°E</text>')  # fmt: skip
    for lat in _range(lat0, lat1, grid):
        _, gy = project(lat, lon0)
        out.append(f'<line class="grid" x1="0" x2="{width}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#c9d5dd"/>'
                   f'<text x="3" y="{gy - 3:.1f}" {GRID_TEXT}>{lat:g}°N</text>')  # fmt: skip
    by_country: dict[str, list[tuple[float, float]]] = {}
    for e in points:
        if e["country"]:
            by_country.setdefault(e["country"], []).append(project(float(e["lat"]), float(e["lon"])))
    for country, spots in sorted(by_country.items()):  # faint names, at the middle of their events
        mx, my = sum(p[0] for p in spots) / len(spots), sum(p[1] for p in spots) / len(spots)
        out.append(f'<text class="country" x="{mx:.1f}" y="{my + 40:.1f}" font-size="28" fill="#b7c6d0" '
                   f'text-anchor="middle" letter-spacing="4">{_e(country.upper())}</text>')  # fmt: skip
    labelled: set[tuple[int, int]] = set()
    for e in sorted(points, key=lambda e: -(e["independent_sources"] or 0)):
        px, py = project(float(e["lat"]), float(e["lon"]))
        r = 4 + 3 * math.sqrt(max(1, e["independent_sources"] or 1))
        colour = "#c0392b" if (e["killed"] or 0) > 0 else "#2c6fbb"
        tip = f"{e['event_date']} {e['event_type']} {e['place'] or ''}: killed {e['killed'] or 0}, " \
              f"{e['independent_sources']} independent source(s)"  # fmt: skip
        out.append(f'<circle class="event" cx="{px:.1f}" cy="{py:.1f}" r="{r:.1f}" fill="{colour}" '
                   f'fill-opacity="0.75" stroke="#fff"><title>{_e(tip)}</title></circle>')  # fmt: skip
        key = (round(px / 40), round(py / 16))
        if e["place"] and key not in labelled:
            labelled.add(key)
            out.append(f'<text x="{px + r + 2:.1f}" y="{py + 4:.1f}" font-size="12">{_e(e["place"])}</text>')
    out.append(f'<text x="{width - 8}" y="16" font-size="11" text-anchor="end" fill="#444">'
               f"{len(points)} geocoded event(s); red: with deaths; size: independent sources</text>")  # fmt: skip
    out.append("</svg>")
    return "\n".join(out)


def _widen(low: float, high: float, span: float) -> tuple[float, float]:
    if high - low >= span:
        return low, high
    mid = (low + high) / 2
    return mid - span / 2, mid + span / 2


def _grid_step(span: float) -> float:
    for step in (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0):
        if span / step <= 10:
            return step
    return 45.0


def _range(low: float, high: float, step: float) -> list[float]:
    start = math.ceil(low / step) * step
    return [round(start + i * step, 6) for i in range(int((high - start) // step) + 1)]
