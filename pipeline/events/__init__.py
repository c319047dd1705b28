"""Stage `events`: conflict events (who did what, where, when, how many) from article sentences.

`rules` is pure (sentences -> mentions), `gazetteer` the places and actors it knows, and `store` the
only module with SQL for `events` and `event_mentions`.
"""

from pipeline.events.rules import EXTRACTOR_VERSION, Mention, mentions_in
from pipeline.events.store import extract_events, refind_events

__all__ = ["EXTRACTOR_VERSION", "Mention", "extract_events", "mentions_in", "refind_events"]
