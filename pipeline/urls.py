"""URL identity: one normalized form per article address, and the outlet (registered domain) of a URL.

`normalize_url` is the key of `frontier`, `raw_pages`, `articles` and `article_urls`, so one article
reached under two spellings (tracking parameters, a fragment, `HTTP://Example.com:80/a`, a Google
redirect wrapper) is stored once. It changes only what cannot change the page served:

- scheme and host lower-cased, a trailing dot on the host and the default port dropped;
- the fragment dropped; an empty path becomes `/`; unsafe characters percent-encoded;
- tracking parameters removed (utm_*, fbclid, gclid, mc_cid, ...), the others kept in their order;
- redirect wrappers (google.com/url?url=..., l.facebook.com/l.php?u=...) unwrapped.

`source_of` uses tldextract's bundled Public Suffix List snapshot and never fetches it.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import tldextract

from pipeline.errors import Skip

DEFAULT_PORTS = {"http": 80, "https": 443}

# Exact parameter names (compared lower-cased) that only track the reader, never select content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "ttclid", "li_fat_id",
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "igshid", "ocid", "ncid", "cmpid",
        "icid", "s_cid", "sr_share", "ref_src", "ref_url", "smid", "emc", "wt.mc_id", "wt_mc",
        "xtor", "at_medium", "at_campaign", "at_custom1", "at_custom2", "__twitter_impression",
        "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "spm", "guccounter",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "_hs")

# (host suffix, path, query parameters that carry the real target), tried in order.
REDIRECT_WRAPPERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("google.", "/url", ("url", "q")),
    ("l.facebook.com", "/l.php", ("u",)),
    ("lm.facebook.com", "/l.php", ("u",)),
    ("out.reddit.com", "/", ("url",)),
    ("t.umblr.com", "/redirect", ("z",)),
    ("href.li", "/", ("",)),
    ("bing.com", "/ck/a", ("u",)),
    ("news.url.google.com", "/url", ("url", "q")),
)
MAX_UNWRAP = 3
PATH_SAFE = "/%:@!$&'()*+,;=-._~"
QUERY_SAFE = "/%:@!$'()*+,;-._~?"
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")

_EXTRACT = tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


def normalize_url(url: str, base: str | None = None) -> str:
    """The canonical spelling of `url` (resolved against `base`); raises Skip('invalid_url')."""
    if not isinstance(url, str) or not url.strip():
        raise Skip("invalid_url", "empty URL")
    try:
        return _normalize(url, base)
    except (ValueError, UnicodeError) as exc:  # urllib and idna refuse a malformed part (base, host, port)
        raise Skip("invalid_url", f"{type(exc).__name__}: {str(exc)[:100]}: {url[:200]}") from exc


def _normalize(url: str, base: str | None) -> str:
    text = url.strip()
    if base and not _SCHEME.match(text):
        try:
            text = urljoin(base, text)
        except ValueError as exc:  # a base such as "http://[" cannot be joined
            raise Skip("invalid_url", f"{exc}: {base[:200]} + {text[:200]}") from exc
    elif text.startswith("//"):
        text = "https:" + text
    for _ in range(MAX_UNWRAP + 1):
        parts = _split(text)
        target = _unwrap(parts.hostname or "", parts.path, parts.query)
        if target is None:
            return _rebuild(parts)
        text = target
    raise Skip("invalid_url", f"more than {MAX_UNWRAP} nested redirect wrappers: {url[:200]}")


def _split(text: str) -> SplitResult:
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise Skip("invalid_url", f"{exc}: {text[:200]}") from exc
    if parts.scheme.lower() not in DEFAULT_PORTS:
        raise Skip("invalid_url", f"not an http(s) URL: {text[:200]}")
    if not parts.hostname:
        raise Skip("invalid_url", f"no host: {text[:200]}")
    if _BAD_HOST.search(parts.hostname):  # "exa mple.com", "a%20b.com": no host name holds these
        raise Skip("invalid_url", f"not a host name: {parts.hostname[:100]!r} in {text[:200]}")
    return parts


_BAD_HOST = re.compile(r"[\s%<>\"{}|\\^`]")


def _unwrap(host: str, path: str, query: str) -> str | None:
    host = host.lower()
    for suffix, wrapper_path, names in REDIRECT_WRAPPERS:
        if not _host_matches(host, suffix) or (path or "/") != wrapper_path:
            continue
        params = dict(parse_qsl(query, keep_blank_values=True))
        for name in names:
            target = params.get(name, "") if name else query
            if target.lower().startswith(("http://", "https://")):
                return target
    return None


def _host_matches(host: str, suffix: str) -> bool:
    if suffix.endswith("."):  # google.<any tld>
        labels = host.split(".")
        return suffix.rstrip(".") in labels[-3:-1] or host.startswith(suffix)
    return host == suffix or host.endswith("." + suffix)


def _rebuild(parts: SplitResult) -> str:
    scheme = parts.scheme.lower()
    host = _clean_host(parts.hostname or "")
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = quote(parts.path or "/", safe=PATH_SAFE)
    query = _clean_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _clean_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        return f"[{host}]"
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise Skip("invalid_url", f"bad host name {host!r}") from exc


def _clean_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if not is_tracking_param(k)]
    return urlencode(kept, safe=QUERY_SAFE, quote_via=quote)


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def host_of(url: str) -> str:
    """The lower-cased host of an absolute URL ('' when it has none)."""
    try:
        return (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=8192)  # a batch's URLs repeat; a watcher's stream of new URLs must not grow it for long
def source_of(url: str) -> str:
    """The outlet of a URL: its registered domain ('bbc.co.uk'), the address itself for an IP."""
    host = host_of(url) if "//" in url else url.lower().strip()
    if not host:
        raise Skip("invalid_url", f"no host: {url[:200]}")
    if is_ip(host):
        return host.strip("[]")
    result = _EXTRACT(host)
    return result.top_domain_under_public_suffix or host
