"""Article metadata from a parsed page: title, authors, publication date (with its source),
site name, canonical URL, and the JSON-LD article body when a page publishes one.

Order of trust for each field: JSON-LD (schema.org Article types), then `<meta>` tags (OpenGraph,
article:*, Dublin Core, itemprop), then the URL (dates only), then the page's visible text
(trafilatura's title/author heuristics, htmldate for the date). A date in the future (beyond a day
of clock skew) or before 1990 is not trusted: it is kept out of `published_at` and the reason goes
to `date_note`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from pipeline.dates import find_text_dates, parse_date
from pipeline.textclean import loads_json

EARLIEST_TRUSTED = datetime(1990, 1, 1, tzinfo=UTC)
CLOCK_SKEW = timedelta(days=1)
ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "socialmediaposting", "liveblogposting",
    "scholarlyarticle", "techarticle", "report", "webpage", "posting", "advertisercontentarticle",
    "satiricalarticle", "medicalscholarlyarticle", "claimreview", "discussionforumposting", "creativework",
}  # fmt: skip
# The most specific article types rank above generic pages when a page has several JSON-LD objects.
_GENERIC_TYPES = {"webpage", "creativework"}
META_DATE_KEYS = (
    "article:published_time", "og:article:published_time", "og:published_time", "datepublished",
    "article.published", "publishdate", "publish-date", "publish_date", "pubdate", "dc.date.issued",
    "dcterms.issued", "dc.date", "dcterms.date", "date", "sailthru.date", "parsely-pub-date",
    "article_date_original", "cxenseparse:recs:publishtime", "originalpublicationdate", "dc.date.created",
    "citation_publication_date", "citation_date", "rnews:datepublished", "publication_date",
)  # fmt: skip
_META_DATE_RANK = {key: rank for rank, key in enumerate(META_DATE_KEYS)}
META_AUTHOR_KEYS = ("author", "article:author", "dc.creator", "dcterms.creator", "byl", "sailthru.author",
                    "parsely-author", "citation_author", "dc.contributor")  # fmt: skip
URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-]([01]?\d)[/-]([0-3]?\d)(?:/|[-_]|$)")
URL_DATE_COMPACT = re.compile(r"/((?:19|20)\d{2})([01]\d)([0-3]\d)(?:/|[-_])")
_BY_PREFIX = re.compile(r"^\s*(?:by|written by|posted by|words by|von|par|por|di)\s*[:\-]?\s+", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|\band\b|&|\||\bund\b|\bet\b|\by\b|/)\s*", re.I)
_NOT_A_NAME = re.compile(
    r"https?://|www\.|@|\d|staff|reporter$|correspondent$|editor$|news service|newsroom|reuters|"
    r"associated press|\bap\b|\bafp\b|contributor|updated|published|photo|copyright|©|bureau|desk\b|agencies",
    re.I,
)
_SPACE = re.compile(r"\s+")


@dataclass
class PageMeta:
    """What the page says about itself."""

    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    date_source: str = "none"
    date_note: str | None = None
    sitename: str | None = None
    canonical_url: str | None = None
    aliases: list[str] = field(default_factory=list)
    description: str | None = None
    html_lang: str | None = None
    article_body: str | None = None  # JSON-LD / microdata articleBody, when present
    headings: tuple[str, ...] = ()  # the page's <h1> texts


@dataclass
class _Found:
    """Raw candidates gathered from JSON-LD and meta tags before choosing."""

    jsonld: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


def clean(text: str | None) -> str | None:
    if text is None:
        return None
    text = _SPACE.sub(" ", str(text)).strip()
    return text or None


# ---------------------------------------------------------------- JSON-LD


def _walk_jsonld(node: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(node, list):
        for item in node:
            yield from _walk_jsonld(item, depth + 1)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
            if key in node:
                yield from _walk_jsonld(node[key], depth + 1)


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type", "")
    kinds = kind if isinstance(kind, list) else [kind]
    return {str(k).lower().rsplit("/", 1)[-1] for k in kinds}


def _jsonld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    """Article-like JSON-LD objects, most specific first."""
    found: list[dict[str, Any]] = []
    for script in tree.iterfind('.//script[@type="application/ld+json"]'):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = loads_json(raw, strict=False)  # a lone surrogate or NUL in it must not fail the page
        except (json.JSONDecodeError, RecursionError):
            continue  # broken JSON-LD is common; the meta tags and the text still count
        found.extend(n for n in _walk_jsonld(data) if _types(n) & ARTICLE_TYPES)
    found.sort(key=lambda n: bool(_types(n) <= _GENERIC_TYPES))
    return found


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    if isinstance(value, dict):
        if _types(value) & {"organization", "newsmediaorganization"}:
            return []
        return _names(value.get("name"))
    if isinstance(value, str):
        return [value]
    return []


def _first_str(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id")
    return clean(value) if isinstance(value, str) else None


# ---------------------------------------------------------------- meta tags


def _meta_tags(tree: HtmlElement) -> dict[str, str]:
    """Lower-cased meta name/property/itemprop -> first non-empty content."""
    found: dict[str, str] = {}
    for elem in tree.iter("meta"):
        content = clean(elem.get("content"))
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = (elem.get(attr) or "").strip().lower()
            if key and key not in found:
                found[key] = content
    for elem in tree.iterfind(".//*[@itemprop]"):
        key = "itemprop:" + (elem.get("itemprop") or "").strip().lower()
        if key in found or elem.tag == "meta":
            continue
        value = elem.get("datetime") or elem.get("content")
        if value:
            found[key] = value.strip()
    return found


# ---------------------------------------------------------------- dates


def url_date(url: str | None) -> datetime | None:
    if not url:
        return None
    path = urlsplit(url).path
    match = URL_DATE.search(path) or URL_DATE_COMPACT.search(path)
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
    except ValueError:
        return None


def untrusted_reason(when: datetime, now: datetime) -> str | None:
    if when > now + CLOCK_SKEW:
        return f"future date {when.date().isoformat()}"
    if when < EARLIEST_TRUSTED:
        return f"date before 1990 {when.date().isoformat()}"
    return None


def _date_candidates(found: _Found, url: str | None) -> Iterator[tuple[str, datetime]]:
    for node in found.jsonld:
        for key in ("datePublished", "dateCreated", "uploadDate"):
            when = parse_date(_first_str(node.get(key)))
            if when:
                yield "json-ld", when
                break
    ranked = sorted(
        (rank, key) for key in found.meta if (rank := _META_DATE_RANK.get(key.removeprefix("itemprop:"))) is not None
    )
    for _, key in ranked:
        when = parse_date(found.meta[key])
        if when:
            yield "meta", when
    when = url_date(url)
    if when:
        yield "url", when


# Containers whose dates are other stories' (related lists, sidebars, teasers), comments', or the date
# of something the article is about (a fact-checked claim, a quoted post): never the page's own date.
_OTHER_DATES = re.compile(
    r"related|teaser|sidebar|recommend|more[-_]?(from|stories|news)|most[-_]?(read|popular|viewed)|trending|"
    r"popular|widget|promo|(^|[-_\s])rail|also|latest|headlines|comment|claim|review[-_]?item|quote|embed|tweet",
    re.I,
)
_OTHER_TAGS = {"aside", "nav", "footer", "li", "blockquote", "figure", "script", "style", "noscript", "template"}
_DATE_HOLDER = re.compile(r"date|time|publish|posted|byline|meta|dateline|datum|fecha|data|stand", re.I)
_UPDATED = re.compile(r"updat|modif|aktualisiert|geändert|revised|edited|actualiz|mis à jour|aggiornat", re.I)
_PUBLISHED = re.compile(r"publi|pubdate|posted|created|erschienen|veröffentlicht|issued", re.I)
# Before the first paragraph this long, short lines ("Datum: 18.10.2021") are the article's header.
_LEAD_PARAGRAPH = 200
_SHORT_LINE = 120


def _marker(elem: HtmlElement) -> str:
    return f"{elem.get('class') or ''} {elem.get('id') or ''} {elem.get('itemprop') or ''}"


def _own_elements(scope: HtmlElement) -> Iterator[HtmlElement]:
    """The elements of `scope` in document order, without the subtrees that hold other dates."""
    stack = [scope]
    while stack:
        elem = stack.pop()
        if not isinstance(elem.tag, str):
            continue
        if elem is not scope and (elem.tag in _OTHER_TAGS or _OTHER_DATES.search(_marker(elem))):
            continue
        yield elem
        stack.extend(reversed(elem))


def _own_text(elem: HtmlElement) -> str:
    return " ".join(" ".join(t for t in elem.itertext()).split())


def _time_dates(elems: list[HtmlElement], language: str | None) -> Iterator[tuple[bool, datetime]]:
    """(is an update, date) of `<time>` elements and short date holders (class date, byline...)."""
    for elem in elems:
        marker = _marker(elem)
        if elem.tag == "time":
            text = _own_text(elem)
            when = parse_date(elem.get("datetime")) or next(iter(find_text_dates(text, language, limit=1)), None)
        elif _DATE_HOLDER.search(marker):
            text = _own_text(elem)
            when = next(iter(find_text_dates(text, language, limit=1)), None) if len(text) < 200 else None
        else:
            continue
        if when is not None:
            label = f"{marker} {text[:60]}"
            yield bool(_UPDATED.search(label) and not _PUBLISHED.search(label)), when


def _lead_date(elems: list[HtmlElement], language: str | None) -> datetime | None:
    """A date on a short line of the article's header ("Datum: 18.10.2021", "1. Februar 2022"), before
    its first full paragraph."""
    for elem in elems:
        if elem.tag not in {"p", "div", "span", "header", "h2", "h3", "h4", "h5", "h6", "small", "em", "strong"}:
            continue
        own = " ".join(((elem.text or "") + " ".join(c.tail or "" for c in elem)).split())
        if elem.tag == "p" and len(_own_text(elem)) >= _LEAD_PARAGRAPH:
            return None
        if own and len(own) <= _SHORT_LINE:
            found = find_text_dates(own, language, limit=1)
            if found:
                return found[0]
    return None


def _article_scope(tree: HtmlElement) -> HtmlElement | None:
    articles = tree.xpath("//article")
    for article in articles:
        if article.find(".//h1") is not None:
            return article
    if articles:
        return articles[0]
    main = tree.xpath("//main")
    return main[0] if main else None


def visible_date(tree: HtmlElement) -> datetime | None:
    """The publication date shown on the page, in any language: a `<time>` or a short date holder
    (class date, byline...) of the article, else a dateline at its top ("Datum: 18.10.2021"); the
    same on the whole page when the article has none. Dates in related-story lists, sidebars, comments
    and quoted or fact-checked statements are not the page's; an "updated" date counts only when
    there is no other."""
    language = tree.get("lang")
    scope = _article_scope(tree)
    for where in ([scope] if scope is not None else []) + [tree]:
        elems = list(_own_elements(where))
        dates = list(_time_dates(elems, language))
        published = [when for updated, when in dates if not updated]
        if published or dates:
            return (published or [when for _, when in dates])[0]
        lead = _lead_date(elems, language)
        if lead is not None:
            return lead
    return None


def _pruned(tree: HtmlElement) -> HtmlElement:
    """A copy of the page without the subtrees that hold other dates."""
    copy = deepcopy(tree)
    for elem in list(copy.iter()):
        if not isinstance(elem.tag, str) or elem.getparent() is None:
            continue
        if elem.tag in _OTHER_TAGS - {"script"} or _OTHER_DATES.search(_marker(elem)):
            elem.getparent().remove(elem)
    return copy


def _text_date(tree: HtmlElement, url: str | None) -> datetime | None:
    from htmldate import find_date

    # No extensive search: its last resort is the copyright year, which is no publication date. Lists
    # of other stories and quoted statements are taken out first.
    found = find_date(_pruned(tree), extensive_search=False, original_date=True, url=url, outputformat="%Y-%m-%d")
    return parse_date(found) if found else None


def choose_date(
    found: _Found, tree: HtmlElement, url: str | None, now: datetime
) -> tuple[datetime | None, str, str | None]:
    """(published_at, date_source, date_note): the first trusted candidate in order of trust."""
    notes: list[str] = []
    for source, when in _date_candidates(found, url):
        if source == "url":
            shown = visible_date(tree)
            if shown is not None and shown.date() == when.date() and untrusted_reason(shown, now) is None:
                return shown, "text", "; ".join(notes) or None  # the same day, with its time
        reason = untrusted_reason(when, now)
        if reason is None:
            return when, source, "; ".join(notes) or None
        notes.append(f"{source}: {reason}")
    text_when = visible_date(tree) or _text_date(tree, url)
    if text_when is not None:
        reason = untrusted_reason(text_when, now)
        if reason is None:
            return text_when, "text", "; ".join(notes) or None
        notes.append(f"text: {reason}")
    return None, "none", "; ".join(notes) or None


# ---------------------------------------------------------------- authors, title, site


# Lower-case words that belong to names (de la Cruz, van Dijk, bin Salman); any other lower-case word
# makes a phrase ("Syrian defense ministries"), not a name.
NAME_PARTICLES = frozenset(
    [
        "al",
        "el",
        "bin",
        "ibn",
        "abu",
        "bint",
        "de",
        "da",
        "das",
        "dos",
        "do",
        "du",
        "del",
        "della",
        "der",
        "den",
        "di",
        "la",
        "le",
        "lo",
        "van",
        "von",
        "ter",
        "ten",
        "zu",
        "y",
        "e",
    ]
)
# A name does not start with an article ("The Russian" is a fragment of a sentence).
_LEADING_ARTICLE = frozenset(
    ["the", "a", "an", "der", "die", "das", "le", "la", "les", "el", "los", "las", "il", "lo", "gli"]
)
_NAME_PUNCTUATION = re.compile(r"[()\[\]{}<>!?\"“”«»:;|#*=+]")


def is_person_name(name: str) -> bool:
    """Whether a byline part reads as a person's name: 2 to 5 words, each capitalised or a name
    particle, no leading article, no brackets or sentence punctuation. Names in scripts without
    capitals (Chinese, Arabic...) need only be short."""
    words = name.split()
    if not words or _NAME_PUNCTUATION.search(name):
        return False
    if not any(c.isupper() or c.islower() for c in name):
        return len(words) <= 5 and len(name) <= 40
    if not 2 <= len(words) <= 5 or words[0].lower() in _LEADING_ARTICLE:
        return False
    for word in words:
        first = next((c for c in word if c.isalpha()), "")
        if first.islower() and word.lower().split("-")[0] not in NAME_PARTICLES:
            return False
    return any(c.isupper() for c in name)


def split_authors(raw: str | list[str] | None) -> list[str]:
    """Individual person names from a byline or a list of bylines."""
    values = raw if isinstance(raw, list) else [raw] if raw else []
    names: list[str] = []
    for value in values:
        text = clean(_BY_PREFIX.sub("", clean(value) or ""))
        if not text:
            continue
        for part in _AUTHOR_SPLIT.split(text):
            name = clean(_BY_PREFIX.sub("", part).strip(" .-–—:"))
            if not name or _NOT_A_NAME.search(name):
                continue
            if not is_person_name(name):
                continue
            if name.isupper():
                name = name.title()
            if name not in names:
                names.append(name)
    return names


def _authors(found: _Found, tree: HtmlElement) -> list[str]:
    for node in found.jsonld:
        names = split_authors(_names(node.get("author")) or _names(node.get("creator")))
        if names:
            return names
    for key in META_AUTHOR_KEYS:
        if key in found.meta:
            names = split_authors(found.meta[key])
            if names:
                return names
    return _byline_authors(tree)


_BYLINE_XPATH = (
    "//*[@rel='author' or @itemprop='author' or contains(@class, 'author') or contains(@class, 'byline')"
    " or contains(@id, 'author') or contains(@id, 'byline')]"
)


def _byline_authors(tree: HtmlElement) -> list[str]:
    """Names from the visible byline (`rel=author`, `itemprop=author`, class or id author/byline)."""
    for elem in tree.xpath(_BYLINE_XPATH)[:20]:
        if elem.tag in {"body", "html", "article", "main", "script", "style", "meta"}:
            continue
        text = clean(elem.text_content())
        if text and 2 < len(text) < 120:
            names = split_authors(text)
            if names:
                return names
    return []


def _strip_site_suffix(title: str, sitename: str | None) -> str:
    if sitename:
        for sep in (" | ", " - ", " – ", " — ", " :: ", " · "):
            head, _, tail = title.rpartition(sep)
            if head and tail.strip().lower() in {sitename.lower(), sitename.lower().removeprefix("the ")}:
                return head.strip()
            head2, _, tail2 = title.partition(sep)
            if tail2 and head2.strip().lower() == sitename.lower():
                return tail2.strip()
    return title


def _title(found: _Found, tree: HtmlElement, sitename: str | None) -> str | None:
    for node in found.jsonld:
        headline = _first_str(node.get("headline"))
        if headline:
            return _strip_site_suffix(headline, sitename)
    for key in ("og:title", "twitter:title", "itemprop:headline", "headline", "dc.title", "title"):
        if key in found.meta:
            return _strip_site_suffix(found.meta[key], sitename)
    from trafilatura.metadata import extract_title

    title = clean(extract_title(tree))
    return _strip_site_suffix(title, sitename) if title else None


def _sitename(found: _Found, url: str | None) -> str | None:
    for key in ("og:site_name", "application-name", "apple-mobile-web-app-title", "twitter:site"):
        if key in found.meta:
            name = found.meta[key].lstrip("@")
            return (_hostname(name) or name).removeprefix("www.") if "://" in name else name
    for node in found.jsonld:
        publisher = _first_str(node.get("publisher"))
        if publisher and not publisher.startswith("http"):
            return publisher
    if url:
        return _hostname(url).removeprefix("www.") or None
    return None


def _hostname(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _absolute(base: str | None, href: str | None) -> str | None:
    href = clean(href)
    if not href:
        return None
    try:
        full = urljoin(base, href) if base else href
        return full if urlsplit(full).scheme in {"http", "https"} else None
    except ValueError:  # "http://[" and the like: no usable address
        return None


def _self_urls(tree: HtmlElement, found: _Found, url: str | None) -> tuple[str | None, list[str]]:
    canonical = None
    for link in tree.iterfind(".//link[@rel]"):
        if "canonical" in (link.get("rel") or "").lower().split():
            canonical = _absolute(url, link.get("href"))
            if canonical:
                break
    og_url = _absolute(url, found.meta.get("og:url"))
    named = [u for u in (canonical, og_url) if u]
    aliases = [u for i, u in enumerate(named) if u != url and u not in named[:i]]
    return canonical or og_url, aliases


def _article_body(found: _Found) -> str | None:
    for node in found.jsonld:
        body = node.get("articleBody")
        if isinstance(body, str) and len(body.split()) >= 20:
            return body
    return None


def page_metadata(tree: HtmlElement, url: str | None, now: datetime) -> PageMeta:
    found = _Found(jsonld=_jsonld_objects(tree), meta=_meta_tags(tree))
    canonical, aliases = _self_urls(tree, found, url)
    published_at, date_source, date_note = choose_date(found, tree, url or canonical, now)
    sitename = clean(_sitename(found, canonical or url))
    return PageMeta(
        title=_title(found, tree, sitename),
        authors=_authors(found, tree),
        published_at=published_at,
        date_source=date_source,
        date_note=date_note,
        sitename=sitename,
        canonical_url=canonical,
        aliases=aliases,
        description=found.meta.get("og:description") or found.meta.get("description"),
        html_lang=clean(tree.get("lang")),
        article_body=_article_body(found),
        headings=tuple(h for h in (clean(e.text_content()) for e in tree.iter("h1")) if h),
    )
