"""The main story only, on pages that carry several (pure, on the parsed tree, before trafilatura).

Aggregator pages, live blogs and most news sites put other stories beside the article: related-story
teasers, "more from" lists, sidebars, or the full text of unrelated stories in an aggregator's feed.
trafilatura keeps them when nothing in the markup says what they are, and can even take one of them
for the main text. Three rules, each leaving the page's main heading (its `<h1>`) and every container
around it alone:

1. Containers named for other stories (class or id `related-*`, `more-from`, `recommended`,
   `most-read`, `trending`, `outbrain`, ...) are removed.
2. A block opened by a heading that announces other stories ("Related Articles", "More from ...",
   "Lesen Sie auch", "À lire aussi": lines.RELATED) is removed: the heading's container when the
   heading opens it, else the heading and the lists and link blocks that follow it (the article may
   go on after a "More:" box).
3. When the page marks its own story as an `<article>` (one holding the main heading and the main
   body, with text of its own), every `<article>` outside it is another story and is removed.

Two safeguards keep a rule from taking the article itself (a blog's `<h1>` is often the site's name,
and some sites give the article's own container a name like `read_more` or `tag-trending`):

- The page's main body, the element whose own paragraphs hold the most words, and every container
  around it are left alone, as the main heading is.
- A rule removes nothing when what it would remove, added to what earlier rules removed, leaves less
  than MIN_KEPT_SHARE of the page's paragraph words.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml.html import HtmlElement

from pipeline.extract.lines import RELATED

_OTHER_STORIES = re.compile(
    r"(^|[\s_-])(related|recommend(ed|ations?)?|more[-_](from|stories|news|articles|on)|(also|further)[-_]read(ing)?|"
    r"read[-_](also|more|next)|you[-_]may[-_]like|most[-_](read|popular|viewed|shared)|trending|outbrain|taboola|"
    r"other[-_](stories|news|articles)|latest[-_](news|stories|articles)|top[-_]stories|news[-_]?feed|"
    r"(live|blog)[-_]?sidebar)($|[\s_-])",
    re.I,
)
# A container named for the article's own text ("entry-content entry-content-read-more") is kept.
_OWN_TEXT_NAME = re.compile(r"(entry|post|article|story|main|page)[-_]{0,2}(content|body|text)|articlebody", re.I)
_ANNOUNCES_OTHERS = re.compile(r"^\W*(?:" + RELATED + r")\W*$", re.I)
_HEADING_TAGS = {"h2", "h3", "h4", "h5", "h6"}
_PAGE_LEVEL = {"html", "body", "main"}
_WORD = re.compile(r"\w+")
# A container "has text of its own" with this many words outside the `<article>` elements it holds.
OWN_TEXT_WORDS = 80
HEADING_MAX_WORDS = 8
# The rules together must leave at least this share of the page's paragraph words.
MIN_KEPT_SHARE = 1 / 3
# A block after such a heading whose words are mostly link text is a teaser.
TEASER_LINK_SHARE = 0.5


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def main_heading(tree: HtmlElement, titles: tuple[str | None, ...]) -> HtmlElement | None:
    """The page's headline element: the `<h1>` whose text is one of the titles, else the first `<h1>`."""
    headings = list(tree.iter("h1"))
    wanted = {" ".join(t.split()).lower() for t in titles if t}
    for heading in headings:
        if " ".join(heading.text_content().split()).lower() in wanted:
            return heading
    return headings[0] if headings else None


def _protected(heading: HtmlElement | None) -> set[HtmlElement]:
    return set(heading.iterancestors()) | {heading} if heading is not None else set()


def _remove(elem: HtmlElement) -> None:
    parent = elem.getparent()
    if parent is not None:
        elem.drop_tree()


def _label(elem: HtmlElement) -> str:
    return f"{elem.get('class') or ''} {elem.get('id') or ''}"


def named_containers(tree: HtmlElement, keep: set[HtmlElement]) -> list[HtmlElement]:
    """Containers named for other stories (outermost only)."""
    doomed = [
        elem
        for elem in tree.iter("div", "section", "aside", "ul", "ol", "nav", "article", "footer")
        if elem not in keep
        and elem.tag not in _PAGE_LEVEL
        and _OTHER_STORIES.search(_label(elem))
        and not _OWN_TEXT_NAME.search(_label(elem))
    ]
    return _outermost(doomed)


def _outermost(elems: list[HtmlElement]) -> list[HtmlElement]:
    chosen = set(elems)
    return [e for e in elems if not any(a in chosen for a in e.iterancestors())]


def _announces_others(elem: HtmlElement) -> bool:
    text = " ".join(elem.text_content().split())
    return 0 < _words(text) <= HEADING_MAX_WORDS and bool(_ANNOUNCES_OTHERS.match(text))


def announced_blocks(tree: HtmlElement, keep: set[HtmlElement]) -> list[HtmlElement]:
    """Blocks opened by a heading that announces other stories."""
    doomed: list[HtmlElement] = []
    for heading in [h for h in tree.iter(*_HEADING_TAGS) if _announces_others(h)]:
        if heading in keep or heading in doomed or any(a in doomed for a in heading.iterancestors()):
            continue  # inside a block already chosen
        block = heading
        # climb while the block opens its container (nothing with text before it)
        while True:
            parent = block.getparent()
            if parent is None or parent in keep or parent.tag in _PAGE_LEVEL or parent.tag == "article":
                break
            before = [s for s in parent if s is not block and _is_before(s, block)]
            if any(_words(s.text_content()) for s in before) or _words(parent.text or ""):
                break
            block = parent
        if block is not heading:
            doomed.append(block)
        else:
            # the heading amid other blocks: it and the teasers after it (lists, links), up to the
            # next block of text of its own (the article may go on after a "More:" box)
            doomed.extend([block, *_teasers_after(block, keep)])
    return _outermost(doomed)


def _link_share(elem: HtmlElement) -> float:
    words = _words(elem.text_content())
    links = sum(_words(a.text_content()) for a in elem.iter("a"))
    return links / words if words else 1.0


def _teasers_after(heading: HtmlElement, keep: set[HtmlElement]) -> list[HtmlElement]:
    teasers: list[HtmlElement] = []
    for sibling in heading.itersiblings():
        if not isinstance(sibling.tag, str) or sibling in keep:
            break
        if sibling.tag not in {"ul", "ol"} and _link_share(sibling) < TEASER_LINK_SHARE:
            break
        teasers.append(sibling)
    return teasers


def _is_before(sibling: HtmlElement, elem: HtmlElement) -> bool:
    parent = elem.getparent()
    return parent is not None and parent.index(sibling) < parent.index(elem)


def _own_words(container: HtmlElement) -> int:
    """Words of the container's paragraphs outside the `<article>` elements it holds."""
    return sum(_words(p.text_content()) for p in container.iter("p") if _inner_article(p, container) is None)


def _inner_article(elem: HtmlElement, container: HtmlElement) -> HtmlElement | None:
    for ancestor in elem.iterancestors():
        if ancestor is container:
            return None
        if ancestor.tag == "article":
            return ancestor
    return None


def other_articles(
    tree: HtmlElement, heading: HtmlElement | None, body: HtmlElement | None, keep: set[HtmlElement]
) -> list[HtmlElement]:
    """The `<article>` elements outside the page's own story, when the page marks that story as an
    `<article>` holding both the main heading and the main body, with text of its own."""
    if heading is None or body is None:
        return []
    home = next((a for a in heading.iterancestors() if a.tag == "article"), None)
    if home is None or home not in set(body.iterancestors()) or _own_words(home) < OWN_TEXT_WORDS:
        return []
    inside = set(home.iter("article"))
    return _outermost([a for a in tree.iter("article") if a not in inside and a not in keep])


def main_body(tree: HtmlElement) -> tuple[HtmlElement | None, int]:
    """The element whose own paragraphs (its `<p>` children) hold the most words, and the words in all
    the page's paragraphs."""
    words: dict[HtmlElement, int] = {}
    total = 0
    for p in tree.iter("p"):
        parent = p.getparent()
        if parent is not None:
            count = _words(p.text_content())
            words[parent] = words.get(parent, 0) + count
            total += count
    return (max(words, key=words.__getitem__) if words else None), total


def _paragraph_words(elem: HtmlElement, paragraphs: bool) -> int:
    """Words in the element's paragraphs (or in all its text, on pages without any)."""
    if not paragraphs:
        return _words(elem.text_content())
    return sum(_words(p.text_content()) for p in elem.iter("p"))


def drop_other_stories(tree: HtmlElement, titles: tuple[str | None, ...]) -> dict[str, int]:
    """Remove other stories from the page (in place); how many blocks each rule removed, and how many
    rules were held back because they would have left too little of the page's text."""
    heading = main_heading(tree, titles)
    body, total = main_body(tree)
    keep = _protected(heading) | _protected(body)
    paragraphs = body is not None
    if not paragraphs:
        total = _words(tree.text_content())
    budget = total * (1 - MIN_KEPT_SHARE)
    removed_words = 0
    counts = {"other_story_container": 0, "other_story_heading": 0, "other_article": 0, "other_story_unsafe": 0}
    rules: list[tuple[str, Callable[[], list[HtmlElement]]]] = [
        ("other_story_container", lambda: named_containers(tree, keep)),
        ("other_story_heading", lambda: announced_blocks(tree, keep)),
        ("other_article", lambda: other_articles(tree, heading, body, keep)),
    ]
    for name, rule in rules:
        doomed = [e for e in rule() if e.getparent() is not None]
        cost = sum(_paragraph_words(e, paragraphs) for e in doomed)
        if removed_words + cost > budget:
            counts["other_story_unsafe"] += 1
            continue
        for elem in doomed:
            _remove(elem)
        removed_words += cost
        counts[name] = len(doomed)
    return counts
