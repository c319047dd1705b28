"""Boilerplate lines that survive trafilatura, recognised by what they say.

Each rule targets one kind of page furniture named in the extraction issue, in the languages the
corpora and the first deployment need most (English, German, French, Spanish, Portuguese, Italian,
Dutch, Arabic stays untouched): "related"/"read more" headings and teaser links, share and follow
prompts, newsletter sign-ups, comment-section headings, photo credits and copyright lines,
reading-time labels, advertisement labels and loading placeholders. Every rule is bounded by a
maximum line length in words, so a sentence of the article that merely mentions a newsletter or a
photo is kept.

Besides the rules by kind: the page's own address printed as a line, contact and follow prompts
closing the text ("Reach the reporter at ...", "Follow her on Twitter"), and a block of paragraphs
printed twice.

Rules that were measured and rejected (they removed more article text than boilerplate on both
benchmarks): lines that are only a date, "Reporting by / Editing by" credit lines, lines that are
only a URL (cited sources are article text), and removing every repeated line (recipes, interviews
and meal plans repeat lines on purpose).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"\w+", re.UNICODE)

RELATED = (
    r"(see|read) (more|the full|the rest)( of)?( (the|this))? (story|article)|continue reading|weiterlesen|"
    r"read (more|next|also)|related( (articles?|stories|posts?|content|coverage|links|reading|roundup))?|"
    r"see (also|more)|more (on|about) (this|that)( story| topic)?|also read|also on \S+|don'?t miss|"
    r"you (may|might) (also )?(like|enjoy|be interested)|recommended( for you| stories| reading)?|"
    r"most (read|popular|viewed|shared)|popular on .{1,30}|more (from|stories|news|coverage|headlines)|"
    r"(trending|top) (now|stories)|what to read next|further reading|more:|"
    r"auch interessant|(das|dies) (thema )?könnte (dich|sie) auch interessieren|mehr zum thema|"
    r"weitere (themen|artikel|beiträge|nachrichten|informationen)|empfohlene (beiträge|artikel)|"
    r"lesen sie auch|zum thema|à lire (aussi|également)|lire aussi|voir aussi|sur le même sujet|"
    r"leia (também|mais)|veja também|lee también|leer más|te puede interesar|leggi anche|"
    r"potrebbe interessarti|lees ook|meer over|"
    r"lea (también|más)|lee (más)|le puede interesar|vea también|puedes ver|ver también|"
    r"(contenido|notas|noticias|artículos) relacionad[oa]s?|más sobre|"
    r"auch lesen|lesen sie (hier|mehr)|mehr themen|zum weiterlesen|schon gelesen\??|"
    r"weitere artikel( zum thema)?|top-themen|czytaj (też|także|również|więcej)|dowiedz się więcej|"
    r"zobacz (też|także)"
)
SHARE = (
    r"share (this|on|the story|via)|shares?|teilen( mit)?|partager|compartir|compartilhe|condividi|"
    r"follow (us|me|him|her|[\w .@]+ on (twitter|facebook|instagram))|like this (story|article)\?|"
    r"tweet( this)?|email this|print( this)?( article)?|drucken|imprimer|bewerten:?|rate this"
)
SIGNUP = (
    r"newsletter|sign(ing)? up|subscribe|subscription|abonn|inscri(vez|be|ption)|suscr[ií]b|"
    r"(in|to) your inbox|get the latest|thanks for signing|registrieren sie sich|jetzt anmelden|"
    r"log ?in to comment|create (a free )?account|stay (informed|in touch|connected|up to date)"
)
# A call to action, not a mention: "the group's newsletter al-Naba" is article text.
SIGNUP_STRONG = (
    r"\b(sign(ing)? up|subscribe|register|get|receive)\b.{0,40}\bnewsletters?\b|\bour newsletters?\b|"
    r"\bnewsletters?\b.{0,40}\b(sign up|subscribe|inbox)|(in|to) your inbox|thanks for signing|"
    r"subscribe to (our|the)|sign up (for|to) (our|the) |sign up (to|for) (receive|get) (updates|alerts|news)|"
    r"\bsubscribe (now|today)\b|sign up to get"
)
COMMENTS = (
    r"\d* ?comments?|kommentare?( insgesamt)?:?|\d* ?commentaires?|comentários?|comentarios?|"
    r"leave a (reply|comment)|schreibe(n sie)? einen kommentar|post a comment|"
    r"join the (conversation|discussion)|show comments|add (a )?comment|keine kommentare|no comments( yet)?"
)
CREDIT = (
    r"(file photo|photo|image|picture|foto|bild|titelbild|beitragsbild|cr[ée]dits?( photos?)?|credit|"
    r"illustration|video|grafik|fotos?|source|quelle|fonte|fuente|map)s?\s*(:|©|by\b)|"
    r"getty ?images|shutterstock|afp photo|ap photo|reuters/|/reuters|"
    r"image illustrative|symbolbild|beitragsbild"
)
# "This copy is for your personal, non-commercial use only. To order presentation-ready copies ..."
REPRINT = r"\bfor (your )?personal,? non-?commercial use only\b|\border reprints\b"
COPYRIGHT = (
    r"©|\(c\) ?\d{4}|copyright|all rights reserved|alle rechte vorbehalten|tous droits réservés|"
    r"todos los derechos reservados"
)
# Values of the page's metadata leaked into the text: a machine timestamp, the address of an image.
LEFTOVER = (
    r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?|"
    r"(https?:)?//\S+\.(jpe?g|png|gif|webp|avif|svg)(\?\S*)?"
)
# Prompts addressed to the reader: download the app, write to us, subscribe to read on.
PROMPT = (
    r"\bdownload (the|our) .{0,40}\bapps?\b.{0,30}\b(ios|android|app ?store|google play)\b|"
    r"\bdownload our( free)? app\b|"
    r"\bwe(['’]d| would)? (like|want|love) to hear (what you think|from you)|"
    r"\bsubmit (a|your) letter to the editor|\bto (view|read|continue reading|access) (the full|this|the rest of)"
    r" (story|article|text)\b.{0,40}\b(subscribe|log ?in|sign in|register)|\bplease subscribe\b|"
    r"\b(in|an) (deinen|ihren) posteingang\b"
)
# "(SANA/via Reuters)", "(AP Photo/Hadi Mizban)", "(Video: The Washington Post)" closing a caption.
CAPTION_CREDIT = (
    r"\([^()]*\b(?:photo|video|via|foto|bild|reuters|afp|ap|getty|epa|xinhua|anadolu|images?)\b[^()]*\)\W*$"
)
READING_TIME = (
    r"\d+ ?min(ute)?s?( read|\.? lesezeit)|lesezeit|tempo de leitura|temps de lecture|tiempo de lectura|"
    r"reading time"
)
ADS = r"advertisement|anzeige|werbung|publicité|publicidad|pubblicità|sponsored( content)?|paid (post|content)|ad"
LOADING = r"(loading|wird geladen|chargement|cargando)( \.\.\.|…)?"
# "Anzeige - ...", "*Werbung. Dieser Beitrag enthält Werbung", "Sponsored: ...": a label, then punctuation.
AD_LABEL = r"(advertisement|anzeige|werbung|publicité|publicidad|sponsored)\s*[-–:.,|]"
# "Aktualisiert am 17.01.2021", "Last modified: 03-10-2004": when a page was edited, not published.
UPDATED = r"(last (modified|updated)|updated (on|at)|aktualisiert|zuletzt aktualisiert|letzte änderung|mis à jour)\b"


def _whole(pattern: str) -> re.Pattern[str]:
    """The line is exactly this (give or take punctuation)."""
    return re.compile(r"^\W*(?:" + pattern + r")\W*$", re.I)


def _start(pattern: str) -> re.Pattern[str]:
    return re.compile(r"^\W*(?:" + pattern + r")", re.I)


# A contact or follow prompt closing an article: "X may be reached at x@example.com", "Write to X at
# ...", "Follow him on Twitter @x", "Síguenos en Telegram, Instagram ...".
CONTACT = re.compile(
    r"\b(follow|folgen? sie|folgt? uns|suivez|siga|sigue|s[ií]guenos|seguici)\b.{0,80}"
    r"\b(twitter|facebook|instagram|youtube|linkedin|telegram|tiktok)\b|"
    r"\b(may|can) be reached at\b|\breach (the|him|her|them|\w+) (reporters?|writers?|authors?|at|on)\b|"
    r"\bwrite to \w.{0,40} at \S+@|\b(e-?mail|contact)\b.{0,40}\bat \S+@\S+|\bfollow (him|her|them|me) (on|at) @?\w",
    re.I,
)
CONTACT_MAX_WORDS = 45
CONTACT_TAIL_LINES = 3
# A block printed twice: a run of at least REPEAT_MIN_RUN consecutive lines of REPEAT_MIN_WORDS or more
# words that all appeared earlier on the page.
REPEAT_MIN_WORDS = 15
REPEAT_MIN_RUN = 3
_URL_PREFIX = re.compile(r"^https?://(www\.)?")

# (kind, pattern, max words in the line)
RULES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("related", _whole(RELATED), 8),
    ("share", _whole(SHARE), 8),
    ("signup", re.compile(SIGNUP_STRONG, re.I), 30),
    ("signup", _whole(SIGNUP), 4),
    ("prompt", re.compile(PROMPT, re.I), 45),
    ("metadata", re.compile(r"^\s*(?:" + LEFTOVER + r")\s*$", re.I), 40),
    ("signup", re.compile(r"\bnewsletters?\W*$", re.I), 4),
    ("comments", _whole(COMMENTS), 6),
    ("credit", _start(CREDIT), 40),
    ("credit", re.compile(CREDIT, re.I), 12),
    ("credit", re.compile(CAPTION_CREDIT, re.I), 40),
    ("copyright", re.compile(COPYRIGHT, re.I), 25),
    ("copyright", re.compile(REPRINT, re.I), 45),
    ("reading_time", _start(READING_TIME), 8),
    ("ads", _whole(ADS), 3),
    ("loading", _whole(LOADING), 4),
    ("ads", _start(AD_LABEL), 12),
    ("updated", _start(UPDATED), 8),
)
# "Read more: <headline of another story>": a teaser link with its label.
RELATED_LABEL = _start(RELATED)
RELATED_LABEL_MAX_WORDS = 25
_LABEL_END = re.compile(r"[:»|?]")


def word_count(line: str) -> int:
    return len(_WORD.findall(line))


def boilerplate_kind(line: str) -> str | None:
    """Which kind of boilerplate this line is, or None for article text."""
    line = " ".join(line.split())  # no-break and other spaces as plain spaces
    words = word_count(line)
    if words == 0:
        return None
    for kind, pattern, max_words in RULES:
        if words <= max_words and pattern.search(line):
            return kind
    if words <= RELATED_LABEL_MAX_WORDS and _LABEL_END.search(line[:40]) and RELATED_LABEL.match(line):
        return "related"
    return None


def drop_boilerplate_lines(lines: Iterable[str]) -> tuple[list[str], dict[str, int]]:
    """The lines that are not boilerplate, and how many of each kind were dropped."""
    kept: list[str] = []
    dropped: dict[str, int] = {}
    for line in lines:
        kind = boilerplate_kind(line)
        if kind is None:
            kept.append(line)
        else:
            dropped[kind] = dropped.get(kind, 0) + 1
    return kept, dropped


def drop_leading_title(lines: list[str], titles: Iterable[str | None], max_lines: int = 3) -> list[str]:
    """Remove the headline repeated at the top of the text (the title is kept as metadata)."""
    heads = {_norm(t) for t in titles if t} - {""}
    start = 0
    while start < min(max_lines, len(lines) - 1) and _norm(lines[start]) in heads:
        start += 1
    return lines[start:]


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _url_key(text: str) -> str:
    return _URL_PREFIX.sub("", text.strip().lower()).rstrip("/")


def drop_own_url(lines: list[str], urls: Iterable[str | None]) -> tuple[list[str], int]:
    """Remove lines that are nothing but the page's own address (printed for sharing or printing)."""
    own = {_url_key(u) for u in urls if u} - {""}
    kept = [line for line in lines if _url_key(line) not in own]
    return kept, len(lines) - len(kept)


def drop_tail_contact(lines: list[str]) -> tuple[list[str], int]:
    """Remove contact and follow prompts among the last lines of the text."""
    start = max(len(lines) - CONTACT_TAIL_LINES, 1)
    doomed = {
        index
        for index in range(start, len(lines))
        if word_count(lines[index]) <= CONTACT_MAX_WORDS and CONTACT.search(lines[index])
    }
    return [line for index, line in enumerate(lines) if index not in doomed], len(doomed)


# What follows the article's closing copyright line ("© Thomson Reuters 2025.") within this many words
# is page furniture (an aggregator's prompts, a comments heading), not more of the article.
AFTER_COPYRIGHT_MAX_WORDS = 30


def drop_after_copyright(lines: list[str]) -> tuple[list[str], int]:
    """Remove the few short lines that follow the last copyright line closing the text."""
    words_after = 0
    for index in range(len(lines) - 1, -1, -1):
        if boilerplate_kind(lines[index]) == "copyright":
            after = len(lines) - index - 1
            return (lines[: index + 1], after) if after else (lines, 0)
        words_after += word_count(lines[index])
        if words_after > AFTER_COPYRIGHT_MAX_WORDS:
            break  # a copyright line further up would be followed by too much
    return lines, 0


def drop_repeated_block(lines: list[str]) -> tuple[list[str], int]:
    """Remove runs of long lines that repeat earlier lines (a block of the page printed twice, e.g. a
    mobile and a desktop copy). Single repeated lines stay: recipes and interviews repeat lines."""
    seen: set[str] = set()
    repeat: list[bool | None] = []  # None: no words (a separator), neither breaks nor makes a run
    for line in lines:
        key = _norm(line)
        repeat.append(None if not key else key in seen and word_count(line) >= REPEAT_MIN_WORDS)
        seen.add(key)
    doomed: set[int] = set()
    start = 0
    while start < len(lines):
        if not repeat[start]:
            start += 1
            continue
        end = start
        while end < len(lines) and repeat[end] is not False:
            end += 1
        if sum(1 for flag in repeat[start:end] if flag) >= REPEAT_MIN_RUN:
            doomed.update(range(start, end))
        start = end
    return [line for index, line in enumerate(lines) if index not in doomed], len(doomed)
