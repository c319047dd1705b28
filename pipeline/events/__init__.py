"""Stage `events`: conflict events (who did what, where, when, how many) from article sentences.

`rules` is pure (sentences -> mentions, and the merge rule `same_event`), `gazetteer` the places it knows
(worldwide, with coordinates), `config` the YAML files of types, actors and places, and `store` the
only module with SQL for `events` and `event_mentions`.
"""

from pipeline.events.rules import EXTRACTOR_VERSION, Mention, mentions_in, same_event
from pipeline.events.store import extract_events, refind_events

__all__ = ["EXTRACTOR_VERSION", "Mention", "extract_events", "mentions_in", "refind_events", "same_event"]
