"""From bytes to a parsed HTML tree: size limit, binary sniffing, charset detection.

Charset order: a byte-order mark; valid UTF-8 (near-certain when the bytes decode); the charset stored
when the page was fetched, when given and the bytes decode with it; UTF-8 with a few
broken bytes (valid multi-byte sequences outnumbering broken bytes 20 to 1, or at all when the page
declares UTF-8), with replacement characters; the charset the page declares in `<meta>`; charset_normalizer's guess;
UTF-8 with replacement as the last resort.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zlib

from lxml.html import HtmlElement

from pipeline.errors import Skip

MAX_HTML_BYTES = 20_000_000
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x00\x00\x01\x00", b"OggS",
                 b"ID3", b"RIFF", b"\x7fELF", b"BZh", b"\xfd7zXZ", b"wOFF", b"wOF2")  # fmt: skip
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_HTML_MARKUP = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|div|p|article|main|section|title|meta|span|table|h[1-6]|br)\b",
    re.I,
)
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
# Valid UTF-8 multi-byte sequences per broken byte above which a page is read as UTF-8.
UTF8_MAJORITY = 20
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip
# WHATWG: a page declaring latin-1 is decoded as windows-1252.
_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
            "ascii": "cp1252", "x-sjis": "shift_jis", "gb2312": "gb18030", "gbk": "gb18030"}  # fmt: skip


def _gunzip(data: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(MAX_HTML_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise Skip("not_html", f"broken gzip: {exc}") from exc
    if len(out) > MAX_HTML_BYTES:
        raise Skip("too_large", f"more than {MAX_HTML_BYTES} bytes once decompressed")
    return out


def _declared_charset(data: bytes) -> str | None:
    match = _DECLARED.search(data[:8192])
    if not match:
        return None
    declared = match.group(1).decode("ascii", "replace").lower()
    name = _ALIASES.get(declared, declared)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _guess(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    sample = data if len(data) < 200_000 else data[:100_000] + data[-100_000:]
    best = from_bytes(sample).best()
    return best.encoding if best is not None else None


def _mostly_utf8(data: bytes, declared: str | None) -> bool:
    """UTF-8 with a few broken bytes (a truncated character, one pasted latin-1 byte): its valid
    multi-byte sequences far outnumber the broken bytes (outnumber them at all when the page declares
    UTF-8). A legacy single-byte guess would garble every non-ASCII character of such a page to save
    one; a page in a legacy charset mislabelled UTF-8 has next to no valid sequences."""
    broken = data.decode("utf-8", errors="replace").count("\ufffd")
    majority = 1 if declared == "utf-8" else UTF8_MAJORITY
    return len(_UTF8_SEQUENCE.findall(data)) >= majority * max(broken, 1)


def _known(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().lower()
    try:
        return codecs.lookup(_ALIASES.get(name, name)).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """The bytes as text. `charset` is the one found when the page was fetched (HTTP header, BOM,
    declaration or detection, see fetch.http.detect_charset): it decides unless a BOM says otherwise,
    the bytes are valid UTF-8 (a legacy label on a UTF-8 page is a server default, and decoding by it
    would garble every non-ASCII character), or the bytes do not decode with it."""
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            return data.decode(bom_codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    stored = _known(charset)
    if stored and stored != "utf-8":
        try:
            return data.decode(stored)
        except UnicodeDecodeError:
            pass  # the stored charset does not fit these bytes: detect again
    declared = _declared_charset(data) or stored
    if _mostly_utf8(data, declared):
        return data.decode("utf-8", errors="replace")
    for codec in (declared, _guess(data)):
        if codec:
            try:
                return data.decode(codec)
            except (UnicodeDecodeError, LookupError):
                continue  # a wrong declaration is common; try the next guess
    return data.decode("utf-8", errors="replace")


def _looks_binary(data: bytes) -> bool:
    """A known binary format, or NULs in more than 1 % of the first 4 KB (a stray NUL in a page is
    dropped by `decode_html`, not a reason to lose the page)."""
    head = data[:4096]
    return head.startswith(_BINARY_MAGIC) or head.count(b"\x00") * 100 > len(head)


def decode_html(html: str | bytes, charset: str | None = None) -> str:
    """The page as text (bytes decoded with the stored `charset` when given), or Skip("not_html") /
    Skip("too_large")."""
    if isinstance(html, bytes):
        if len(html) > MAX_HTML_BYTES:
            raise Skip("too_large", f"{len(html)} bytes")
        if html[:2] == b"\x1f\x8b":
            html = _gunzip(html)
        if not any(html.startswith(bom) for bom, _ in _BOMS) and _looks_binary(html):
            raise Skip("not_html", "binary content")
        text = decode_bytes(html, charset)
    elif isinstance(html, str):
        text = html
    else:
        raise Skip("not_html", f"expected str or bytes, got {type(html).__name__}")
    if len(text) > MAX_HTML_BYTES:
        raise Skip("too_large", f"{len(text)} characters")
    if "\x00" in text:
        text = text.replace("\x00", "")  # neither lxml nor a PostgreSQL text column holds NUL
    if not _HTML_MARKUP.search(text[:200_000]):
        raise Skip("not_html", "no HTML markup")
    return text


def parse_html(text: str) -> HtmlElement:
    from trafilatura.utils import load_html

    tree = load_html(text)
    if tree is None or len(tree) == 0:
        raise Skip("not_html", "lxml found no document")
    # lxml may hand back an element inside the document (`<svg><html>...`: the <svg>); the readers
    # after this one expect the root, and htmldate cannot drop an element that has no parent.
    root = tree.getroottree().getroot()
    return root if root is not None else tree
