"""`newsflow gaps`: the days an outlet has no article, and the backfill that would fill them.

A day counts by publication date (`articles.published_at`, what sitemap and URL-list backfills select
by) or by crawl date (when the page was fetched, for WARC records the WARC-Date, what a WARC
backfill's window selects by). The outlets looked at are those named, else those with an article
within `margin_days` of the window (an outlet that stopped years ago is not a gap), else all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from pipeline.analysis import queries
from pipeline.analysis.names import check_outlets
from pipeline.analysis.queries import Conn
from pipeline.errors import ConfigError

COUNT_BY = ("published", "crawl")


@dataclass(frozen=True)
class Gap:
    outlet: str
    first: date
    last: date  # included

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class GapReport:
    first: date
    last: date
    by: str
    outlets: list[str]  # the outlets looked at
    gaps: list[Gap]
    sites: dict[str, str]  # outlet -> site root, for the backfill hint

    def backfill_command(self, gap: Gap) -> str:
        """The command that would load this gap."""
        if self.by == "crawl":
            source = "warc:PATH"  # the archive whose records were crawled those days
        else:
            source = f"sitemap:{self.sites.get(gap.outlet, f'https://{gap.outlet}/')}"
        return f"newsflow backfill --source {source} --from {gap.first} --to {gap.last}"


def day_ranges(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days folded into (first, last) ranges, for a short report."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(days):
        if ranges and day - ranges[-1][1] == timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def find_gaps(
    conn: Conn,
    first: date,
    last: date,
    *,
    outlets: Sequence[str] = (),
    by: str = "published",
    every_outlet: bool = False,
    margin_days: int = 30,
) -> GapReport:
    """The runs of days in [first, last] without an article, per outlet."""
    if last < first:
        raise ConfigError(f"--to {last} is before --from {first}")
    if by not in COUNT_BY:
        raise ConfigError(f"--by {by!r}: give one of {', '.join(COUNT_BY)}")
    if margin_days < 0:
        raise ConfigError(f"--near {margin_days}: give a number of days, 0 or more")
    if outlets:
        looked_at = list(check_outlets(conn, outlets))
    elif every_outlet:
        looked_at = queries.known_outlets(conn)
    else:
        looked_at = queries.outlets_active_near(conn, first, last, margin_days, by)
    have = queries.days_with_articles(conn, looked_at, first, last, by) if looked_at else {}
    window = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    gaps = [
        Gap(outlet, a, b)
        for outlet in looked_at
        for a, b in day_ranges([d for d in window if d not in have.get(outlet, set())])
    ]
    sites = queries.outlet_sites(conn, sorted({g.outlet for g in gaps})) if gaps else {}
    return GapReport(first, last, by, looked_at, gaps, sites)
