"""robots.txt rules per origin, parsed with Protego (Google's matching: longest rule wins, wildcards).

What an answer means follows Google's documented handling:
- 2xx: the file's rules (at most `MAX_ROBOTS_BYTES` read);
- 4xx (404, 410, even 401/403): no rules, everything allowed;
- 5xx, timeout, refused connection: the origin is treated as disallowed for this run
  (`robots_unavailable`, a temporary failure retried on a later run).
"""

from __future__ import annotations

from dataclasses import dataclass

from protego import Protego

MAX_ROBOTS_BYTES = 500_000
# A crawl-delay larger than this is capped: one article per minute is polite, one per hour stalls a run.
MAX_CRAWL_DELAY_S = 60.0
UA_TOKEN = "newsflow"


@dataclass(frozen=True)
class RobotsRules:
    """The rules of one origin; `parser` None means 'no rules' (everything allowed)."""

    parser: Protego | None
    unavailable: str | None = None  # set when robots.txt could not be read (5xx, timeout)

    def allowed(self, url: str, agent: str = UA_TOKEN) -> bool:
        if self.unavailable is not None:
            return False
        return self.parser is None or bool(self.parser.can_fetch(url, agent))

    def crawl_delay(self, agent: str = UA_TOKEN) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(agent)
        rate = self.parser.request_rate(agent)
        if rate is not None and rate.requests:
            rate_delay = rate.seconds / rate.requests
            delay = max(delay or 0.0, rate_delay)
        if delay is None:
            return None
        return min(float(delay), MAX_CRAWL_DELAY_S)


ALLOW_ALL = RobotsRules(None)


def parse_robots(body: bytes) -> RobotsRules:
    text = body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
    return RobotsRules(Protego.parse(text))


def rules_for_status(status: int, body: bytes) -> RobotsRules:
    if 200 <= status < 300:
        return parse_robots(body)
    if 400 <= status < 500:
        return ALLOW_ALL
    return RobotsRules(None, unavailable=f"robots.txt answered HTTP {status}")


def robots_url(origin: str) -> str:
    return origin.rstrip("/") + "/robots.txt"
