"""Stage `fetch`: frontier URLs -> raw pages, politely (robots.txt, per-host limits) and with guards.

`http` is the fetcher (addresses, politeness, bodies), `robots` reads robots.txt, `pages` fetches a
batch of frontier rows, and `store` is the only module with SQL for `frontier`, `raw_pages` and
`fetch_log`.
"""

from pipeline.fetch.pages import fetch_pages, fetch_urls
from pipeline.fetch.store import FrontierItem, add_to_frontier, pending_frontier, store_raw_page

__all__ = ["FrontierItem", "add_to_frontier", "fetch_pages", "fetch_urls", "pending_frontier", "store_raw_page"]
