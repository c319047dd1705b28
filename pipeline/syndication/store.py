"""The SQL of syndication: fingerprint postings, candidate lookup, cluster tables.

`link_articles` works inside the caller's transaction. Per article: post its bounded fingerprint set to
`syndication_postings` (unless already posted for the same text), then `core.find_links` (the decisions,
shared with the in-memory path) asks this module's `_DbIndex` for exact matches, the postings of its
fingerprints within +-window days and the texts of its candidates; linked articles join or merge clusters,
and `core.assign` names the original and each member's relation. The oldest cluster id survives a merge,
so reruns and backfills never mint new ids for a story that already has one.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from pipeline import db
from pipeline.errors import DatabaseError
from pipeline.syndication.core import (
    MAX_CANDIDATES,
    MAX_POSTINGS,
    Assignment,
    assign,
    day_of,
    find_links,
    member_relation,
    postings,
    stays_original,
)
from pipeline.syndication.match import Prepared, Record, prepare

LOCK_KEY = 4242030  # one linker at a time per database (transaction-scoped advisory lock)

_ARTICLES_SQL = """
SELECT a.id, a.url, a.source, coalesce(a.title, ''), a.text, a.published_at, a.created_at,
       coalesce(array_agg(u.url) FILTER (WHERE u.url IS NOT NULL), '{}')
FROM articles a LEFT JOIN article_urls u ON u.article_id = a.id
WHERE a.id = ANY(%s)
GROUP BY a.id
"""
_LOOKUP_SQL = """
SELECT q.fp, p.article_id
FROM unnest(%s::int4[]) AS q(fp)
CROSS JOIN LATERAL (
    SELECT s.article_id FROM syndication_postings s
    WHERE s.fp = q.fp AND s.day BETWEEN %s AND %s
    LIMIT %s
) AS p
"""

# The article's index entry and its cluster membership, in one round trip (a row even when neither exists).
_DOC_SQL = """
SELECT (SELECT cluster_id FROM cluster_members WHERE article_id = %(id)s), d.day, d.text_hash, d.fps
FROM (SELECT 1) AS one LEFT JOIN syndication_docs d ON d.article_id = %(id)s
"""
_EXACT_SQL = """
(SELECT article_id FROM syndication_docs WHERE text_hash = %(hash)s AND article_id <> %(id)s LIMIT %(limit)s)
UNION SELECT article_id FROM article_urls WHERE url = ANY(%(urls)s) AND article_id <> %(id)s
UNION SELECT id FROM articles WHERE url = ANY(%(urls)s) AND id <> %(id)s
"""


@dataclass(frozen=True)
class Row:
    """An article as read from the database."""

    id: int
    record: Record
    day: int


def link_articles(
    conn: psycopg.Connection[Any], article_ids: Sequence[int], *, window_days: int = 30
) -> dict[str, int]:
    """Index the articles, link them with their originals/copies within +-window_days, keep clusters.

    Runs in the caller's transaction (the caller commits). Idempotent. Returns counts of outcomes:
    indexed, unchanged (already indexed with the same text), original, copy, duplicate, singleton,
    and skip:<reason>.
    """
    counts: Counter[str] = Counter()
    wanted = sorted({int(i) for i in article_ids})
    if not wanted:
        return {}
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            linker = _Linker(cur, window_days)
            rows = _load(cur, wanted)
            counts["skip:missing"] += len(wanted) - len(rows)
            for row in sorted(rows.values(), key=lambda r: (r.day, r.id)):
                counts.update(linker.link(row))
            counts.update(_final_relations(cur, [r.id for r in rows.values()], counts["skip:no_text"]))
    except psycopg.Error as exc:
        raise DatabaseError(f"syndication linking failed: {exc}") from exc
    return {k: v for k, v in counts.items() if v}


class _DbIndex:
    """`core.Index` over the tables; keeps the texts it has prepared during one `link_articles` call."""

    def __init__(self, cur: psycopg.Cursor[Any]) -> None:
        self.cur = cur
        self.cache: dict[int, Prepared] = {}
        self.urls: dict[int, list[str]] = {}

    def exact(self, key: int, p: Prepared) -> set[int]:
        """Articles with the same normalized text (at most MAX_CANDIDATES) or a URL in common."""
        urls = [u for u in (p.record.url, *p.record.aliases) if u]
        self.cur.execute(_EXACT_SQL, {"hash": p.text_hash, "id": key, "limit": MAX_CANDIDATES, "urls": urls})
        return {r[0] for r in self.cur.fetchall()}

    def lookup(self, key: int, fps: Sequence[int], first_day: int, last_day: int) -> dict[int, list[int]]:
        self.cur.execute(_LOOKUP_SQL, (list(fps), first_day, last_day, MAX_POSTINGS + 1))
        by_fp: dict[int, list[int]] = {}
        for fp, aid in self.cur.fetchall():
            by_fp.setdefault(fp, []).append(aid)
        return by_fp

    def prepared(self, keys: Sequence[int]) -> dict[int, Prepared]:
        missing = [i for i in keys if i not in self.cache]
        if missing:
            for aid, row in _load(self.cur, missing).items():
                self.cache[aid] = prepare(row.record)
        return {i: self.cache[i] for i in keys if i in self.cache}


class _Linker:
    """Links articles one at a time: `core` decides, this class writes the tables."""

    def __init__(self, cur: psycopg.Cursor[Any], window_days: int) -> None:
        self.cur = cur
        self.window_days = window_days
        self.index = _DbIndex(cur)

    def link(self, row: Row) -> Counter[str]:
        prepared = prepare(row.record)
        self.index.cache[row.id] = prepared
        if not prepared.tokens:
            return Counter({"skip:no_text": 1})
        indexed, in_cluster = _index(self.cur, row, prepared)
        linked = find_links(self.index, row.id, prepared, row.day, self.window_days)
        if linked or in_cluster:
            cluster_id, changed = _join_clusters(self.cur, row.id, linked)
            if changed or not self.append_copy(cluster_id, row.id):
                self.refresh(cluster_id)
        return Counter({indexed: 1})

    def append_copy(self, cluster_id: int, article_id: int) -> bool:
        """Fast path: a later copy joins and the original stays. False when it could be the original."""
        self.cur.execute("SELECT original_article_id FROM story_clusters WHERE id = %s", (cluster_id,))
        found = self.cur.fetchone()
        if found is None or int(found[0]) == article_id:
            return False
        members = self.index.prepared([int(found[0]), article_id])
        if len(members) < 2:
            return False
        original, member = members[int(found[0])], members[article_id]
        if not stays_original(original, member):
            return False
        _write_member(self.cur, cluster_id, member_relation(member, original, str(cluster_id)))
        return True

    def refresh(self, cluster_id: int) -> None:
        """Write the cluster's original and every member's relation, as `core.assign` decides them."""
        self.cur.execute("SELECT article_id FROM cluster_members WHERE cluster_id = %s", (cluster_id,))
        members = self.index.prepared([r[0] for r in self.cur.fetchall()])
        assignments = assign(list(members.values()), str(cluster_id))
        original_id = int(assignments[0].canonical_id)
        self.cur.execute(
            "UPDATE story_clusters SET original_article_id = %s, updated_at = now() "
            "WHERE id = %s AND original_article_id <> %s",
            (original_id, cluster_id, original_id),
        )
        for a in assignments:
            _write_member(self.cur, cluster_id, a)


def _final_relations(cur: psycopg.Cursor[Any], ids: Sequence[int], skipped: int) -> Counter[str]:
    """Each linked article's relation after the whole batch; the rest are singletons."""
    cur.execute("SELECT relation, count(*) FROM cluster_members WHERE article_id = ANY(%s) GROUP BY 1", (ids,))
    out = Counter({relation: n for relation, n in cur.fetchall()})
    out["singleton"] = len(ids) - skipped - sum(out.values())
    return out


def _load(cur: psycopg.Cursor[Any], ids: Sequence[int]) -> dict[int, Row]:
    cur.execute(_ARTICLES_SQL, (list(ids),))
    out = {}
    for aid, url, source, title, text, published, created, aliases in cur.fetchall():
        record = Record(
            key=str(aid),
            text=text or "",
            published_at=published,
            source=source or "",
            url=url or "",
            title=title,
            aliases=tuple(sorted(a for a in aliases if a != url)),
        )
        out[aid] = Row(aid, record, day_of(published or created))
    return out


def _index(cur: psycopg.Cursor[Any], row: Row, prepared: Prepared) -> tuple[str, bool]:
    """Post the article's fingerprints; 'unchanged' when they are already posted for this text and day.

    Also tells whether the article is already a cluster member (read in the same round trip).
    """
    fps = postings(prepared)
    cur.execute(_DOC_SQL, {"id": row.id})
    found = cur.fetchone()
    in_cluster = found is not None and found[0] is not None
    old = found[1:] if found is not None and found[1] is not None else None
    if old is not None and (old[0], old[1], sorted(old[2])) == (row.day, prepared.text_hash, fps):
        return "unchanged", in_cluster
    if old is not None:
        cur.execute("DELETE FROM syndication_postings WHERE fp = ANY(%s::int4[]) AND article_id = %s", (old[2], row.id))
    cur.execute(
        "INSERT INTO syndication_docs (article_id, day, text_hash, fps) VALUES (%s, %s, %s, %s::int4[]) "
        "ON CONFLICT (article_id) DO UPDATE SET day = EXCLUDED.day, text_hash = EXCLUDED.text_hash, "
        "fps = EXCLUDED.fps, indexed_at = now()",
        (row.id, row.day, prepared.text_hash, fps),
    )
    cur.execute(
        "INSERT INTO syndication_postings (fp, day, article_id) SELECT f, %s, %s FROM unnest(%s::int4[]) f",
        (row.day, row.id, fps),
    )
    return "indexed", in_cluster


def _cluster_of(cur: psycopg.Cursor[Any], ids: Sequence[int]) -> dict[int, int]:
    cur.execute("SELECT article_id, cluster_id FROM cluster_members WHERE article_id = ANY(%s)", (list(ids),))
    return dict(cur.fetchall())


def _join_clusters(cur: psycopg.Cursor[Any], article_id: int, linked: set[int]) -> tuple[int, bool]:
    """The one cluster holding the article and everything it links to; the oldest cluster id survives.

    Returns the cluster id and whether anything besides the article itself joined or merged.
    """
    involved = sorted(linked | {article_id})
    current = _cluster_of(cur, involved)
    clusters = sorted(set(current.values()))
    if clusters:
        target = clusters[0]
    else:
        cur.execute("INSERT INTO story_clusters (original_article_id) VALUES (%s) RETURNING id", (article_id,))
        fetched = cur.fetchone()
        if fetched is None:
            raise DatabaseError("INSERT INTO story_clusters returned no id")
        target = int(fetched[0])
    for other in clusters[1:]:
        cur.execute("UPDATE cluster_members SET cluster_id = %s WHERE cluster_id = %s", (target, other))
        cur.execute("DELETE FROM story_clusters WHERE id = %s", (other,))
    newcomers = [a for a in involved if a not in current]
    if newcomers:
        cur.execute(
            "INSERT INTO cluster_members (article_id, cluster_id, relation, similarity) "
            "SELECT a, %s, 'copy', 0 FROM unnest(%s::bigint[]) a ON CONFLICT (article_id) DO NOTHING",
            (target, newcomers),
        )
    changed = len(clusters) != 1 or any(a != article_id for a in newcomers)
    return target, changed


def _write_member(cur: psycopg.Cursor[Any], cluster_id: int, a: Assignment) -> None:
    cur.execute(
        "INSERT INTO cluster_members (article_id, cluster_id, relation, similarity, dropped, added, changed) "
        "VALUES (%s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb) "
        "ON CONFLICT (article_id) DO UPDATE SET cluster_id = EXCLUDED.cluster_id, "
        "relation = EXCLUDED.relation, similarity = EXCLUDED.similarity, dropped = EXCLUDED.dropped, "
        "added = EXCLUDED.added, changed = EXCLUDED.changed, linked_at = now() "
        "WHERE (cluster_members.cluster_id, cluster_members.relation, cluster_members.similarity, "
        "cluster_members.dropped, cluster_members.added, cluster_members.changed) IS DISTINCT FROM "
        "(EXCLUDED.cluster_id, EXCLUDED.relation, EXCLUDED.similarity, EXCLUDED.dropped, EXCLUDED.added, "
        "EXCLUDED.changed)",
        (
            int(a.key),
            cluster_id,
            a.relation,
            a.score,
            json.dumps(a.dropped),
            json.dumps(a.added),
            json.dumps(a.changed),
        ),  # fmt: skip
    )


def prune_postings(conn: psycopg.Connection[Any]) -> int:
    """Remove postings of articles that are no longer indexed (deleted articles). Maintenance, not nightly."""
    with conn.cursor() as cur:
        cur.execute(
            "DELETE FROM syndication_postings p WHERE NOT EXISTS "
            "(SELECT 1 FROM syndication_docs d WHERE d.article_id = p.article_id)"
        )
        return cur.rowcount


# Linking is serialized (one linker at a time, whatever the number of processes): two copies of one
# story linked at the same moment by two processes would not see each other.
LINK_LOCK = (7_431_003, 1)


def claim_unlinked(conn: psycopg.Connection[Any], limit: int, *, wait: bool = True) -> list[int]:
    """Take the linker lock for the caller's transaction, then up to `limit` articles not linked yet.
    `wait` False: none when another process holds the lock (it links what is waiting). Nothing
    waiting: none, without waiting for the lock."""
    if not db.any_work_waiting(conn, "link_state") or not db.exclusive_stage(conn, LINK_LOCK, wait=wait):
        return []
    rows = conn.execute(
        "SELECT article_id FROM article_work WHERE link_state = 'pending' ORDER BY article_id LIMIT %s", (limit,)
    ).fetchall()
    return [int(r[0]) for r in rows]


def mark_linked(conn: psycopg.Connection[Any], article_ids: Sequence[int], state: str = "done") -> None:
    """Record that these articles were linked (`done`), or must be linked again (`pending`)."""
    conn.execute("UPDATE article_work SET link_state = %s WHERE article_id = ANY(%s)", (state, list(article_ids)))


def unlinked_count(conn: psycopg.Connection[Any]) -> tuple[int, Any]:
    return db.work_waiting(conn, "link_state")
