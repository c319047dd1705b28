"""Site-level boilerplate: paragraphs that repeat across several pages of one site.

Newsletter prompts, "Read more" blocks, photo credits, copyright lines and "related" teasers are
printed on many pages of a site; article paragraphs are not. A `SiteProfile` counts, for each
normalised paragraph, on how many distinct pages of the site it was seen. When a page is filtered,
a paragraph is boilerplate if it was seen on at least `min_other_pages` *other* pages of the site
(twice that for paragraphs longer than `max_words`, since a reused background paragraph or a
quoted passage can repeat across two stories).

Guards that keep real text:
- a page that shares most of its paragraphs with a page already counted (an updated version of
  the same story, a syndicated copy, the same URL fetched twice) is not counted again;
- the page's own title and description are never removed (a story's lead is often the teaser of
  that story on the site's other pages);
- the page's own contribution to the counts is subtracted (the page is known by its id, or it is
  another version of a counted page), so a profile learned from this very page does not strip it.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

_WORD = re.compile(r"\w+", re.UNICODE)
MIN_OTHER_PAGES = 1
MAX_WORDS = 25
MIN_WORDS = 4  # shorter lines (headings, labels, separators) are left to the other filters
SAME_STORY_SHARE = 0.5  # a page sharing more than this share of its paragraphs is another version
SAME_STORY_MIN_PARAGRAPHS = 4  # below this, a page is another version only when all its paragraphs are shared


def paragraph_key(paragraph: str) -> str | None:
    """A short stable key of a paragraph: its lower-cased words, hashed. None for fewer than
    MIN_WORDS words."""
    words = _WORD.findall(paragraph.lower())
    if len(words) < MIN_WORDS:
        return None
    return hashlib.blake2b(" ".join(words).encode(), digest_size=8).hexdigest()


def word_count(paragraph: str) -> int:
    return len(_WORD.findall(paragraph))


def page_keys(text: str) -> dict[str, int]:
    """Distinct paragraph keys of one page's text (one paragraph per line) -> word count."""
    keys: dict[str, int] = {}
    for line in text.split("\n"):
        key = paragraph_key(line)
        if key:
            keys[key] = word_count(line)
    return keys


def page_id(text: str) -> str:
    """How a page is known to a profile: a hash of its (unfiltered) extracted text."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class SiteProfile:
    """Paragraph key -> number of distinct pages of the site it was seen on."""

    counts: Counter[str] = field(default_factory=Counter)
    words: dict[str, int] = field(default_factory=dict)
    page_ids: set[str] = field(default_factory=set)
    min_other_pages: int = MIN_OTHER_PAGES
    max_words: int = MAX_WORDS

    @property
    def pages(self) -> int:
        return len(self.page_ids)

    def same_story(self, keys: Iterable[str]) -> bool:
        """Most of these paragraphs were seen on exactly one counted page: another version of that
        page. Paragraphs already seen on several pages (the site's boilerplate) are left out."""
        candidates = [key for key in keys if self.counts.get(key, 0) < 2]
        if len(candidates) < 2:
            return False
        shared = sum(1 for key in candidates if self.counts.get(key, 0) == 1)
        if len(candidates) < SAME_STORY_MIN_PARAGRAPHS:
            return shared == len(candidates)
        return shared > SAME_STORY_SHARE * len(candidates)

    def add_page(self, text: str) -> bool:
        """Count one page's paragraphs; False when the page was already counted or is another
        version of a counted page."""
        ident = page_id(text)
        keys = page_keys(text)
        if ident in self.page_ids or self.same_story(keys):
            return False
        self.counts.update(keys.keys())
        self.words.update(keys)
        self.page_ids.add(ident)
        return True

    def copy(self) -> SiteProfile:
        return SiteProfile(Counter(self.counts), dict(self.words), set(self.page_ids),
                           self.min_other_pages, self.max_words)  # fmt: skip

    def needed(self, words: int) -> int:
        return self.min_other_pages if words <= self.max_words else 2 * self.min_other_pages

    def is_boilerplate(self, key: str, words: int, own: int = 0) -> bool:
        """`own`: how many of the counts are the filtered page itself (0 or 1)."""
        return self.counts.get(key, 0) - own >= self.needed(words)

    def boilerplate(self) -> dict[str, int]:
        """Keys that are boilerplate for a page outside the profile -> pages seen on."""
        return {k: n for k, n in self.counts.items() if self.is_boilerplate(k, self.words.get(k, 0))}

    def filter(self, text: str, *, keep: Iterable[str | None] = ()) -> tuple[str, int]:
        """The text without this site's boilerplate paragraphs, and how many were removed."""
        own = 1 if page_id(text) in self.page_ids or self.same_story(page_keys(text)) else 0
        protected = {k for k in (paragraph_key(p) for p in keep if p) if k}
        kept: list[str] = []
        removed = 0
        for line in text.split("\n"):
            key = paragraph_key(line)
            if key and key not in protected and self.is_boilerplate(key, word_count(line), own):
                removed += 1
                continue
            kept.append(line)
        return "\n".join(kept), removed
