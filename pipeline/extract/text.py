"""The main text of a page, one paragraph per line.

trafilatura (balanced settings, comments off, tables on) finds the main content; it is asked to
keep links so that paragraphs that are nothing but a link (a teaser for another story, "Read more"
with a headline, a list of related stories) can be recognised and dropped. Then the links are
flattened to their text, the page's own address and the headline repeated at the top are removed,
boilerplate lines are dropped by kind, then contact prompts closing the text and blocks printed twice
(lines.py).

Before trafilatura runs, embedded tweets are lifted out of their wrappers: trafilatura discards
elements whose class says "tweet", "social" or "embed", and with them the quoted posts that news
articles cite as their sources.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from lxml import etree
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.xml import xmltotxt

from pipeline.extract.lines import (
    drop_after_copyright,
    drop_boilerplate_lines,
    drop_leading_title,
    drop_own_url,
    drop_repeated_block,
    drop_tail_contact,
)
from pipeline.extract.metadata import PageMeta
from pipeline.extract.stories import drop_other_stories

_WORD = re.compile(r"\w+", re.UNICODE)
# Kept links are only for measuring link density; trafilatura's warnings about empty or odd links
# would be noise on every run.
logging.getLogger("trafilatura.xml").setLevel(logging.ERROR)
LINK_PARAGRAPH_MIN_WORDS = 1
LINK_PARAGRAPH_MAX_WORDS = 25
LINK_PARAGRAPH_MAX_CHARS = 160
LINK_PARAGRAPH_SHARE = 0.9
# A link written out (URL, e-mail address) is cited content; a sentence ending in punctuation is text.
_CITED_OR_SENTENCE = re.compile(r"(https?://|www\.|@\w)|[.!?…。！？]\W*$")


@dataclass
class TextResult:
    text: str
    dropped: dict[str, int] = field(default_factory=dict)


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _link_words(elem: etree._Element) -> int:
    return sum(_words("".join(ref.itertext())) for ref in elem.iter("ref"))


def is_link_paragraph(elem: etree._Element) -> bool:
    """A short paragraph or heading whose words are (nearly) all link text: a teaser for another
    page. Written-out URLs and e-mail addresses, and full sentences, are not teasers."""
    text = " ".join("".join(elem.itertext()).split())
    words = _words(text)
    if not LINK_PARAGRAPH_MIN_WORDS <= words <= LINK_PARAGRAPH_MAX_WORDS or len(text) > LINK_PARAGRAPH_MAX_CHARS:
        return False
    if _CITED_OR_SENTENCE.search(text):
        return False
    return _link_words(elem) >= LINK_PARAGRAPH_SHARE * words


def _remove_keeping_tail(elem: etree._Element) -> None:
    parent = elem.getparent()
    if parent is None:
        return
    tail = elem.tail
    if tail and tail.strip():
        previous = elem.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(elem)


def drop_link_paragraphs(body: etree._Element) -> int:
    doomed = [elem for elem in body.iter("p", "head") if is_link_paragraph(elem)]
    for elem in doomed:
        _remove_keeping_tail(elem)
    return len(doomed)


# Class names of an article's body container. Some layouts cut the body into several containers of the
# same class with advertisements between them; trafilatura then keeps only the first part.
_BODY_CLASS = re.compile(
    r"(^|\s)((article|story)[-_]{1,2}(body|content|text)|body__container|articlebody|storybody)(\s|$)", re.I
)


def join_split_body(tree: HtmlElement) -> int:
    """Move the content of later containers with the same body class into the first one (in place).
    Returns how many containers were joined."""
    groups: dict[tuple[str, str], list[HtmlElement]] = {}
    for elem in tree.iter("div", "section"):
        cls = elem.get("class") or ""
        if cls and _BODY_CLASS.search(cls) and elem.find(".//p") is not None:
            groups.setdefault((elem.tag, cls), []).append(elem)
    joined = 0
    for first, *rest in (members for members in groups.values() if len(members) > 1):
        for other in rest:
            parent = other.getparent()
            if parent is None or first in other.iterancestors() or other in first.iterancestors():
                continue  # nested containers are one body already
            first.extend(list(other))
            parent.remove(other)
            joined += 1
    return joined


_EMBEDDED_POST = '//blockquote[contains(concat(" ", normalize-space(@class), " "), " twitter-tweet ")]'
# Wrappers added around an embedded post (a few words of their own at most: a label, a script stub).
EMBED_WRAPPER_EXTRA_WORDS = 3
_PAGE_LEVEL = {"body", "html", "article", "main"}


def lift_embedded_posts(tree: HtmlElement) -> int:
    """Replace the wrapper of each embedded tweet (`blockquote.twitter-tweet`) by the plain quote, so
    that trafilatura keeps it as a quotation (in place). Returns how many were lifted."""
    lifted = 0
    for quote in tree.xpath(_EMBEDDED_POST):
        words = _words(quote.text_content())
        if words == 0:
            continue
        top = quote
        for ancestor in quote.iterancestors():
            if ancestor.tag in _PAGE_LEVEL or _words(ancestor.text_content()) > words + EMBED_WRAPPER_EXTRA_WORDS:
                break
            top = ancestor
        quote.attrib.clear()
        parent = top.getparent()
        if top is not quote and parent is not None:
            quote.tail = top.tail
            parent.replace(top, quote)
        lifted += 1
    return lifted


def trafilatura_body(tree: HtmlElement, url: str | None, *, fast: bool = False) -> etree._Element | None:
    """trafilatura's main content; `fast`: without its comparison with readability and jusText."""
    doc = bare_extraction(
        tree,
        url=url,
        include_comments=False,
        include_tables=True,
        include_links=True,
        with_metadata=False,
        fast=fast,
    )
    if doc is None or isinstance(doc, dict):
        return None
    return doc.body


def main_text(tree: HtmlElement, url: str | None, meta: PageMeta, *, fast: bool = False) -> TextResult:
    """The page's main text; `tree` is changed (split bodies joined, embedded posts lifted), so
    metadata comes first."""
    join_split_body(tree)
    lift_embedded_posts(tree)
    others = drop_other_stories(tree, (meta.title, *meta.headings))
    body = trafilatura_body(tree, url, fast=fast)
    if body is None:
        return TextResult("")
    dropped = others | {"link_paragraph": drop_link_paragraphs(body)}
    etree.strip_tags(body, "ref")
    lines = [line.strip() for line in xmltotxt(body, False).split("\n") if line.strip()]
    lines, dropped["own_url"] = drop_own_url(lines, (url, meta.canonical_url, *meta.aliases))
    lines = drop_leading_title(lines, (meta.title, *meta.headings))
    lines, dropped["after_copyright"] = drop_after_copyright(lines)
    lines, by_kind = drop_boilerplate_lines(lines)
    dropped.update(by_kind)
    lines, dropped["contact"] = drop_tail_contact(lines)
    lines, dropped["repeated"] = drop_repeated_block(lines)
    return TextResult("\n".join(lines), {k: v for k, v in dropped.items() if v})
