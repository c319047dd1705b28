"""Stage `feeds` (and `poll`): the feed list -> `feeds`, then due feeds -> new frontier URLs.

`config` reads `config/feeds.yaml`, `parse` reads feed bodies (pure), `poll` polls the due feeds with
conditional GET and backoff, `discover` finds a site's feeds, and `store` is the only module with
SQL for `feeds`.
"""

from pipeline.feeds.poll import is_outage, poll_feeds
from pipeline.feeds.store import sync_feeds

__all__ = ["is_outage", "poll_feeds", "sync_feeds"]
