"""The archive side of classification: sync `topics`, write labels, relabel after a taxonomy change.

Every label is stored with its score, the classifier version and the taxonomy hash; an article's
decision (relevant or not) goes to `article_classifications` and `articles.relevant`. Writes skip
unchanged rows, so running the same taxonomy twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg

from pipeline import db
from pipeline.classify.models import Classifier, Labels, get_classifier
from pipeline.classify.taxonomy import Taxonomy, load_taxonomy

COUNT_KEYS = ("classified", "relevant", "not_relevant", "labels", "changed")


_READ: dict[Path, tuple[tuple[tuple[int, int] | None, ...], Taxonomy]] = {}  # parsed file, by its files' stats


def _stats(paths: list[Path]) -> tuple[tuple[int, int] | None, ...]:
    found: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            found.append(None)  # gone: read again, and let load_taxonomy name the problem
        else:
            found.append((stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def _read_taxonomy(path: Path) -> Taxonomy:
    """`load_taxonomy`, parsed again only when the file or one of its example files changed (every
    batch asks for it; parsing the YAML each time cost ~3 ms per page of a backfill)."""
    cached = _READ.get(path)
    if cached is not None:
        stats, taxonomy = cached
        files = [path, *taxonomy.example_files, *(t.examples_file for t in taxonomy.topics if t.examples_file)]
        if None not in stats and _stats(files) == stats:
            return taxonomy
    taxonomy = load_taxonomy(path)
    files = [path, *taxonomy.example_files, *(t.examples_file for t in taxonomy.topics if t.examples_file)]
    _READ[path] = (_stats(files), taxonomy)
    return taxonomy


def load_for(taxonomy_path: Path, cache_dir: Path | None) -> tuple[Taxonomy, Classifier]:
    """The taxonomy as the file says now, and its classifier (built once per process: see
    `get_classifier`)."""
    taxonomy = _read_taxonomy(Path(taxonomy_path))
    return taxonomy, get_classifier(taxonomy, cache_dir)


def sync_topics(conn: psycopg.Connection[Any], taxonomy: Taxonomy) -> int:
    """Upsert the taxonomy's topics into `topics`; returns how many rows changed."""
    rows = [(t.id, t.label, t.description, taxonomy.name, taxonomy.hash) for t in taxonomy.topics]
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO topics (id, label, description, taxonomy, taxonomy_hash)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (id) DO UPDATE SET label = EXCLUDED.label, description = EXCLUDED.description,
                   taxonomy = EXCLUDED.taxonomy, taxonomy_hash = EXCLUDED.taxonomy_hash
               WHERE (topics.label, topics.description, topics.taxonomy, topics.taxonomy_hash)
                     IS DISTINCT FROM (EXCLUDED.label, EXCLUDED.description, EXCLUDED.taxonomy,
                                       EXCLUDED.taxonomy_hash)""",
            rows,
        )
        return max(cur.rowcount, 0)


def classify_articles(
    conn: psycopg.Connection[Any],
    article_ids: Sequence[int],
    taxonomy_path: Path,
    cache_dir: Path | None = None,
) -> dict[str, int]:
    """Classify these articles and store labels, in the caller's transaction. Idempotent."""
    taxonomy, classifier = load_for(taxonomy_path, cache_dir)
    sync_topics(conn, taxonomy)
    return _classify_batch(conn, list(article_ids), taxonomy, classifier)


def _classify_batch(
    conn: psycopg.Connection[Any], article_ids: list[int], taxonomy: Taxonomy, classifier: Classifier
) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_KEYS, 0)
    if not article_ids:
        return counts
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, coalesce(title, ''), text FROM articles WHERE id = ANY(%s) ORDER BY id",
            (article_ids,),
        )
        rows = cur.fetchall()
    missing = len(set(article_ids)) - len(rows)
    if missing:
        counts["skip:no_article"] = missing
    if not rows:
        return counts
    labels = classifier.classify([(title, text) for _, title, text in rows])
    ids = [row[0] for row in rows]
    counts["changed"] = _store(conn, ids, labels, classifier.version, taxonomy.hash)
    counts["classified"] = len(rows)
    counts["relevant"] = sum(1 for lab in labels if lab.relevant)
    counts["not_relevant"] = len(rows) - counts["relevant"]
    counts["labels"] = sum(len(lab.topics) for lab in labels)
    return counts


TOPIC_COLUMNS = ("article_id", "topic_id", "score", "classifier_version", "taxonomy_hash")
MERGE_TOPICS = """
INSERT INTO article_topics (article_id, topic_id, score, classifier_version, taxonomy_hash)
SELECT article_id, topic_id, score, classifier_version, taxonomy_hash FROM _stage_article_topics
ORDER BY article_id, topic_id
ON CONFLICT (article_id, topic_id) DO UPDATE SET score = EXCLUDED.score,
    classifier_version = EXCLUDED.classifier_version, taxonomy_hash = EXCLUDED.taxonomy_hash,
    labelled_at = now()
WHERE (article_topics.score, article_topics.classifier_version, article_topics.taxonomy_hash)
  IS DISTINCT FROM (EXCLUDED.score, EXCLUDED.classifier_version, EXCLUDED.taxonomy_hash)
"""
DECISION_COLUMNS = ("article_id", "relevant", "classifier_version", "taxonomy_hash")
MERGE_DECISIONS = """
INSERT INTO article_classifications (article_id, relevant, classifier_version, taxonomy_hash)
SELECT article_id, relevant, classifier_version, taxonomy_hash FROM _stage_article_classifications
ORDER BY article_id
ON CONFLICT (article_id) DO UPDATE SET relevant = EXCLUDED.relevant,
    classifier_version = EXCLUDED.classifier_version, taxonomy_hash = EXCLUDED.taxonomy_hash,
    classified_at = now()
WHERE (article_classifications.relevant, article_classifications.classifier_version,
       article_classifications.taxonomy_hash)
      IS DISTINCT FROM (EXCLUDED.relevant, EXCLUDED.classifier_version, EXCLUDED.taxonomy_hash)
"""
# A relevance that changes (a reclassification) sends the article back to the events stage, which reads
# an article that became relevant and drops the mentions of one that no longer is: marked before the
# relevance itself is updated (the first classification, from NULL, leaves the events state alone).
EVENTS_AGAIN = """
UPDATE article_work w SET events_state = 'pending'
FROM articles a JOIN _stage_article_classifications s ON s.article_id = a.id
WHERE w.article_id = a.id AND a.relevant IS NOT NULL AND a.relevant IS DISTINCT FROM s.relevant
  AND w.events_state <> 'pending'
"""
UPDATE_RELEVANT = """
UPDATE articles a SET relevant = s.relevant, updated_at = now()
FROM _stage_article_classifications s
WHERE a.id = s.article_id AND a.relevant IS DISTINCT FROM s.relevant
"""


def _store(
    conn: psycopg.Connection[Any], ids: list[int], labels: list[Labels], version: str, taxonomy_hash: str
) -> int:
    """Replace these articles' labels; returns the number of labels added or removed.

    One statement for the removed labels, one COPY and one merge for the labels, the same for the
    relevance decisions."""
    new = {(aid, topic): score for aid, lab in zip(ids, labels, strict=True) for topic, score in lab.topics}
    with db.in_transaction(conn), conn.cursor() as cur:
        cur.execute("SELECT article_id, topic_id FROM article_topics WHERE article_id = ANY(%s)", (ids,))
        old = {(aid, topic) for aid, topic in cur.fetchall()}
        gone = sorted(old - new.keys())
        if gone:
            cur.execute(
                "DELETE FROM article_topics WHERE (article_id, topic_id) IN "
                "(SELECT * FROM unnest(%s::bigint[], %s::text[]))",
                ([a for a, _ in gone], [t for _, t in gone]),
            )
        rows = [(aid, topic, score, version, taxonomy_hash) for (aid, topic), score in sorted(new.items())]
        db.copy_merge(cur, "article_topics", TOPIC_COLUMNS, rows, MERGE_TOPICS)
        _store_decisions(cur, ids, labels, version, taxonomy_hash)
    return len(gone) + len(new.keys() - old)


def _store_decisions(
    cur: psycopg.Cursor[Any], ids: list[int], labels: list[Labels], version: str, taxonomy_hash: str
) -> None:
    rows = [(aid, lab.relevant, version, taxonomy_hash) for aid, lab in zip(ids, labels, strict=True)]
    db.copy_merge(cur, "article_classifications", DECISION_COLUMNS, rows, MERGE_DECISIONS)
    cur.execute(EVENTS_AGAIN)
    cur.execute(UPDATE_RELEVANT)
    cur.execute(
        "UPDATE article_work SET classify_state = 'done' WHERE article_id = ANY(%s) AND classify_state <> 'done'",
        (ids,),
    )


def stale_article_ids(
    conn: psycopg.Connection[Any],
    version: str,
    taxonomy_hash: str,
    *,
    first: int | None = None,
    last: int | None = None,
) -> list[int]:
    """Articles never classified, or classified by another classifier version or taxonomy; with
    `first`/`last`, only ids in that range (one mapped relabelling task's share)."""
    with conn.cursor() as cur:
        cur.execute(
            """SELECT a.id FROM articles a
               LEFT JOIN article_classifications c ON c.article_id = a.id
               WHERE (c.article_id IS NULL OR c.classifier_version <> %s OR c.taxonomy_hash <> %s)
                 AND a.id BETWEEN coalesce(%s, a.id) AND coalesce(%s, a.id)
               ORDER BY a.id""",
            (version, taxonomy_hash, first, last),
        )
        return [row[0] for row in cur.fetchall()]


def drop_unused_topics(conn: psycopg.Connection[Any], taxonomy: Taxonomy) -> int:
    """Topics no longer in the taxonomy and no longer on any article."""
    with conn.cursor() as cur:
        cur.execute(
            """DELETE FROM topics t WHERE NOT (t.id = ANY(%s))
               AND NOT EXISTS (SELECT 1 FROM article_topics x WHERE x.topic_id = t.id)""",
            (taxonomy.topic_ids,),
        )
        return max(cur.rowcount, 0)


# Articles labelled by another classifier version or taxonomy go back to pending; done once per change
# of the pair, which `classifier_current` remembers.
MARK_STALE = """
UPDATE article_work w SET classify_state = 'pending'
FROM article_classifications c
WHERE c.article_id = w.article_id AND w.classify_state = 'done'
  AND (c.classifier_version <> %(version)s OR c.taxonomy_hash <> %(hash)s)
"""
SET_CURRENT = """
INSERT INTO classifier_current (only_row, classifier_version, taxonomy_hash) VALUES (true, %(version)s, %(hash)s)
ON CONFLICT (only_row) DO UPDATE SET classifier_version = EXCLUDED.classifier_version,
    taxonomy_hash = EXCLUDED.taxonomy_hash, since = now()
"""


def mark_stale(conn: psycopg.Connection[Any], version: str, taxonomy_hash: str) -> int:
    """When the archive was last marked for another classifier version or taxonomy, mark the articles
    labelled by another one pending (in the caller's transaction). Returns how many were marked; a read of
    one row when nothing changed."""
    current = "SELECT classifier_version, taxonomy_hash FROM classifier_current"
    row = conn.execute(current).fetchone()
    if row is not None and tuple(row) == (version, taxonomy_hash):
        return 0
    conn.execute("LOCK TABLE classifier_current IN EXCLUSIVE MODE")  # one marker at a time; readers go on
    row = conn.execute(current).fetchone()
    if row is not None and tuple(row) == (version, taxonomy_hash):
        return 0
    params = {"version": version, "hash": taxonomy_hash}
    marked = conn.execute(MARK_STALE, params).rowcount
    conn.execute(SET_CURRENT, params)
    return max(marked, 0)


def claim_unclassified(
    conn: psycopg.Connection[Any], version: str, taxonomy_hash: str, limit: int, *, exclude: Sequence[int] = ()
) -> list[int]:
    """Lock up to `limit` articles whose labels are missing or stale, in the caller's transaction (SKIP
    LOCKED: articles another process is labelling are left to it)."""
    mark_stale(conn, version, taxonomy_hash)
    rows = conn.execute(
        """SELECT article_id FROM article_work WHERE classify_state = 'pending' AND NOT (article_id = ANY(%s))
           ORDER BY article_id LIMIT %s
           FOR UPDATE SKIP LOCKED""",
        (list(exclude), limit),
    ).fetchall()
    return [int(r[0]) for r in rows]


def forget_labels(conn: psycopg.Connection[Any], article_ids: Sequence[int]) -> None:
    """Make these articles' labels stale (their text changed): the classify stage labels them again."""
    conn.execute("DELETE FROM article_classifications WHERE article_id = ANY(%s)", (list(article_ids),))
    conn.execute("UPDATE article_work SET classify_state = 'pending' WHERE article_id = ANY(%s)", (list(article_ids),))


def unclassified_count(conn: psycopg.Connection[Any]) -> tuple[int, Any]:
    """Articles waiting for labels (new, changed, or labelled by another classifier or taxonomy), and
    when the oldest of them was stored."""
    return db.work_waiting(conn, "classify_state")
