"""Classification: the seeds per GOLD.md, a trained taxonomy with its cache, the archive (real PostgreSQL)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from typer.testing import CliRunner

from pipeline.classify import (
    Labels,
    LinearClassifier,
    RuleClassifier,
    classify_articles,
    get_classifier,
    load_taxonomy,
)
from pipeline.classify.keywords import KeywordMatcher, expand
from pipeline.classify.models import RULES_VERSION
from pipeline.classify.store import claim_unclassified, forget_labels, mark_stale, unclassified_count
from pipeline.jobs.maintenance import reclassify
from pipeline.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "config" / "topics.yaml"
MUST_HAVE = {
    "000": "foreign-fighters",
    "001": "foreign-fighters",
    "002": "attacks",
    "003": "military-ops",
    "004": "strategy-propaganda",
}
MAY_HAVE = {
    "000": {"foreign-fighters", "attacks", "military-ops", "detention"},
    "001": {"foreign-fighters", "military-ops", "politics"},
    "002": {"attacks", "detention", "politics", "foreign-fighters", "military-ops"},
    "003": {"military-ops", "attacks", "strategy-propaganda"},
    "004": {"strategy-propaganda", "military-ops", "attacks"},
}


def seed_documents(seeds_dir: Path) -> dict[str, tuple[str, str]]:
    """The five seeds as (title, text); 002 cut into the Reuters article and its three related articles."""
    docs: dict[str, tuple[str, str]] = {}
    for path in sorted(seeds_dir.glob("0*.txt")):
        key, text = path.name[:3], path.read_text(encoding="utf-8")
        if key != "002":
            docs[key] = ("", text)
            continue
        main, _, rest = text.partition("© Thomson Reuters 2025.")
        docs[key] = ("", main)
        related = re.split(r"\n(?:The Mainichi|Japan Today)\n[^\n]*\n- (?:The Mainichi|Japan Today)\n", rest)[1:]
        assert len(related) == 3, "002 should carry three related articles"
        for i, part in enumerate(related):
            title, _, body = part.strip().partition("\n")
            docs[f"002-related-{i}"] = (title, body)
    return docs


def test_seeds_get_their_gold_topics(seeds_dir: Path) -> None:
    docs = seed_documents(seeds_dir)
    model = get_classifier(load_taxonomy(DEFAULT))
    assert isinstance(model, RuleClassifier)
    labels = dict(zip(docs, model.classify(list(docs.values())), strict=True))
    for key, topic in MUST_HAVE.items():
        got = {t for t, _ in labels[key].topics}
        assert labels[key].relevant, key
        assert topic in got, f"{key}: must have {topic}, got {sorted(got)}"
    for key in (k for k in docs if k.startswith("002-related")):
        assert labels[key] == Labels([], False), f"{key} is off-topic, got {labels[key]}"
    for key, allowed in MAY_HAVE.items():
        extra = {t for t, _ in labels[key].topics} - allowed
        assert not extra, f"{key}: GOLD.md does not allow {sorted(extra)}"


def test_scores_are_sorted_and_above_threshold() -> None:
    model = get_classifier(load_taxonomy(DEFAULT))
    text = (
        "ISIS fighters launched a suicide bombing in Baghdad. The Islamic State group claimed responsibility "
        "for the attack, the second car bomb this month; officials said a sleeper cell had planned the plot."
    )
    [labels] = model.classify([("Suicide bombing in Baghdad claimed by ISIS", text)])
    assert labels.relevant and labels.topics[0][0] == "attacks"
    scores = [s for _, s in labels.topics]
    assert scores == sorted(scores, reverse=True) and all(0 < s <= 1 for s in scores)
    [off] = model.classify([("Markets rally", "Shares rose on Tuesday as the central bank held rates. " * 5)])
    assert off == Labels([], False)


# --- the keyword automaton counts what the regular expressions count ------------------------------------

MATCHER_GROUPS = [
    ["(?-i:IS|ISIS)", "Islamic State"],
    ["bomb(?:s|ing|ings)?|blasts?", "suicide (?:bombing|attack)s?", "car bombs?"],
    ["kidnap\\w*", "killed (?:\\w+ ){0,3}fighters"],  # unbounded: they stay regular expressions
    ["[ÉE]tat islamique", "[وفبل]?داعش"],
]
MATCHER_TEXTS = [
    "This is it: ISIS and the Islamic State (IS) claimed it; this IS-like word isisx is not.",
    "A suicide bombing, then car bombs and two blasts; the bomber fled. Bombs! bombing.",
    "They kidnapped two men and killed at least 40 fighters; kidnappers were killed.",
    "L'État islamique et l'Etat islamique; وداعش ولداعش و داعش; Étatislamique no.",
    "",
]


@pytest.mark.parametrize("text", MATCHER_TEXTS)
def test_keyword_automaton_counts_like_the_regular_expressions(text: str) -> None:
    matcher = KeywordMatcher(MATCHER_GROUPS)
    expected = [
        len(re.findall(r"(?<!\w)(?:" + "|".join(f"(?:{p})" for p in group) + r")(?!\w)", text, re.IGNORECASE))
        for group in MATCHER_GROUPS
    ]
    assert matcher.counts(text) == expected
    assert matcher.expanded == 7 and matcher.fallback[2] is not None, "finite patterns are in the automaton"


def test_pattern_expansion_keeps_case_sensitive_parts() -> None:
    strings = {"".join(c for c, _ in s): [cs for _, cs in s] for s in expand("(?-i:IS)-?K|Daesh")}
    assert set(strings) == {"IS-K", "ISK", "Daesh"}
    assert strings["IS-K"] == [True, True, False, False] and not any(strings["Daesh"])
    assert KeywordMatcher([["(?-i:IS)-?K"]]).counts("IS-K, is-k, ISK, Isk") == [2]


def test_default_taxonomy_is_one_automaton() -> None:
    from pipeline.classify.models import KeywordCounter

    taxonomy = load_taxonomy(DEFAULT)
    counter = KeywordCounter(taxonomy)
    patterns = sum(len(t.keywords) for t in taxonomy.topics) + len(taxonomy.require_any)
    assert counter.matcher.expanded == patterns, "every shipped pattern is finite, so none falls back to a regex"
    assert all(p is None for p in counter.matcher.fallback)


# --- a small taxonomy with labelled examples of our own -------------------------------------------------

WEATHER = ["rain", "storm", "snow", "flood", "hail", "drought"]
SPORT = ["match", "goal", "league", "coach", "striker", "tournament"]


def write_trained_taxonomy(folder: Path, extra_keyword: str = "") -> Path:
    rows = []
    for i in range(30):
        w, s = WEATHER[i % 6], SPORT[(i * 5) % 6]
        rows.append({"text": f"Heavy {w} hit the valley on day {i}; the {w} closed roads.", "labels": ["weather"]})
        rows.append({"text": f"The {s} ended late on day {i}; the {s} drew a big crowd.", "labels": ["sport"]})
        if i % 3 == 0:
            rows.append({"text": f"A {w} delayed the {s} on day {i}.", "labels": ["weather", "sport"]})
        if i % 4 == 0:
            rows.append({"text": f"The council approved a budget on day {i}.", "labels": []})
    (folder / "ex.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    keywords = "[rain, storm" + (f", {extra_keyword}" if extra_keyword else "") + "]"
    path = folder / "tiny.yaml"
    path.write_text(
        "name: tiny\nexamples: [ex.jsonl]\ntopics:\n"
        f"  - {{id: weather, label: Weather, keywords: {keywords}}}\n"
        "  - {id: sport, label: Sport, keywords: [match, goal]}\n",
        encoding="utf-8",
    )
    return path


def test_trained_taxonomy_learns_and_caches_by_hash(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(write_trained_taxonomy(tmp_path))
    cache = tmp_path / "models"
    model = get_classifier(taxonomy, cache)
    assert isinstance(model, LinearClassifier) and model.version.startswith("linear-")
    cached = list(cache.glob(f"{taxonomy.hash}-*.joblib"))
    assert len(cached) == 1
    docs = [("", "A storm and snow closed the pass."), ("", "The striker scored a goal in the league match.")]
    labels = model.classify(docs)
    assert [t for t, _ in labels[0].topics][0] == "weather"
    assert [t for t, _ in labels[1].topics][0] == "sport"
    from pipeline.classify import models

    models._CLASSIFIERS.clear()  # a new process: the model comes from the cache file, not from training
    reloaded = get_classifier(taxonomy, cache)
    assert reloaded is not model
    assert reloaded.classify(docs) == labels
    assert not reloaded.taxonomy.examples, "the cached model must not carry the training texts"


def test_nb_logistic_weights_features_by_their_class_ratio() -> None:
    from scipy import sparse

    from pipeline.classify.models import NBLogistic

    # feature 0 only in positives, feature 1 only in negatives, feature 2 everywhere
    x = sparse.csr_matrix([[1, 0, 1], [2, 0, 1], [0, 1, 1], [0, 3, 1]] * 5, dtype=float)
    y = np.array([1, 1, 0, 0] * 5)
    model = NBLogistic(1.0).fit(x, y)
    assert model.ratio[0] > 0 > model.ratio[1] and abs(model.ratio[2]) < 1e-6
    proba = model.predict_proba(sparse.csr_matrix([[1, 0, 1], [0, 1, 1]], dtype=float))[:, 1]
    assert proba[0] > 0.5 > proba[1]
    counts_do_not_matter = model.predict_proba(sparse.csr_matrix([[7, 0, 1]], dtype=float))[:, 1]
    assert counts_do_not_matter[0] == pytest.approx(proba[0]), "features are binary"


def test_chained_out_of_fold_scores_never_see_their_own_labels() -> None:
    """The chain's cross-validation is nested: a held-out row's chained score comes from models trained
    on the other folds only (their first-stage scores out-of-fold within those folds), so relabelling
    the held-out rows cannot change their scores."""
    from scipy import sparse

    from pipeline.classify.models import Candidate, chain_out_of_fold, folds, out_of_fold

    rng = np.random.default_rng(13)
    x = sparse.csr_matrix(rng.random((60, 8)) * (rng.random((60, 8)) > 0.5))
    y = np.column_stack([(x[:, 0].toarray().ravel() > 0.2), (x[:, 1].toarray().ravel() > 0.3)]).astype(int)
    candidate = Candidate(("words",), 1.0, nb=True)
    oof = out_of_fold(x, y, candidate.c, nb=candidate.nb)
    chained = chain_out_of_fold(x, y, candidate, oof)
    _, held_out = folds(len(y))[0]
    relabelled = y.copy()
    relabelled[held_out] = 1 - relabelled[held_out]
    relabelled_oof = out_of_fold(x, relabelled, candidate.c, nb=candidate.nb)
    assert np.allclose(oof[held_out], relabelled_oof[held_out]) and not np.allclose(oof, relabelled_oof)
    again = chain_out_of_fold(x, relabelled, candidate, relabelled_oof)
    assert np.allclose(chained[held_out], again[held_out]), "no held-out score depends on held-out labels"
    assert not np.allclose(chained, again), "the other folds' scores do depend on those labels"


def test_label_chain_is_chosen_by_cross_validation_and_used(tmp_path: Path) -> None:
    from pipeline.classify.models import train

    model = train(load_taxonomy(write_trained_taxonomy(tmp_path)))
    key = f"{model.chosen.name} + chain"
    assert key in model.selection, "the chain is one more cross-validated candidate"
    assert len(model.chain) in (0, 2)
    chained = bool(model.chain)
    assert chained == (model.selection[key] > model.selection[model.chosen.name])
    scores = model.scores([("", "A storm delayed the match."), ("", "The council met.")])
    assert scores.shape == (2, 2) and ((scores >= 0) & (scores <= 1)).all()


# --- the archive ------------------------------------------------------------------------------------


def add_articles(conn: psycopg.Connection[Any], docs: dict[str, tuple[str, str]]) -> dict[str, int]:
    ids = {}
    with conn.cursor() as cur:
        for key, (title, text) in docs.items():
            cur.execute(
                """INSERT INTO articles (url, source, title, text, word_count, content_hash, extractor)
                   VALUES (%s, 'example.org', %s, %s, %s, md5(%s), 'test') RETURNING id""",
                (f"https://example.org/{key}", title, text, len(text.split()), text),
            )
            ids[key] = cur.fetchone()[0]
    conn.commit()
    return ids


ARCHIVE = {
    "bomb": ("ISIS claims suicide bombing", "The Islamic State group claimed a suicide bombing and a car bomb attack."),
    "prison": (
        "Jailbreak at SDF prison",
        "ISIS detainees tried a jailbreak at a prison; the detention camp at al-Hol.",
    ),
    "market": ("Markets rally", "Shares rose on Tuesday as the central bank held interest rates steady."),
}


def test_classify_articles_stores_labels_idempotently(conn: psycopg.Connection[Any]) -> None:
    ids = add_articles(conn, ARCHIVE)
    first = classify_articles(conn, list(ids.values()), DEFAULT)
    conn.commit()
    assert first["classified"] == 3 and first["relevant"] == 2 and first["not_relevant"] == 1
    rows = conn.execute("SELECT article_id, topic_id, classifier_version, taxonomy_hash FROM article_topics").fetchall()
    taxonomy = load_taxonomy(DEFAULT)
    assert {(r[0], r[1]) for r in rows} >= {(ids["bomb"], "attacks"), (ids["prison"], "detention")}
    assert {(r[2], r[3]) for r in rows} == {(RULES_VERSION, taxonomy.hash)}
    relevant = dict(conn.execute("SELECT id, relevant FROM articles").fetchall())
    assert relevant == {ids["bomb"]: True, ids["prison"]: True, ids["market"]: False}
    assert conn.execute("SELECT count(*) FROM article_classifications").fetchone()[0] == 3
    assert conn.execute("SELECT count(*) FROM topics WHERE taxonomy_hash = %s", (taxonomy.hash,)).fetchone()[0] == 6
    before = conn.execute("SELECT * FROM article_topics ORDER BY 1, 2").fetchall()
    again = classify_articles(conn, list(ids.values()), DEFAULT)
    conn.commit()
    assert again["changed"] == 0 and again["labels"] == first["labels"]
    assert conn.execute("SELECT * FROM article_topics ORDER BY 1, 2").fetchall() == before


def test_the_classify_claim_follows_the_state_and_a_new_taxonomy_marks_once(conn: psycopg.Connection[Any]) -> None:
    """The claim reads `classify_state` (not a join of every article with its labels): new articles are
    pending, labelled ones done, changed text pending again; a new classifier version or taxonomy marks
    the articles labelled by another one pending once, and then costs a read of one row."""
    ids = add_articles(conn, ARCHIVE)
    taxonomy = load_taxonomy(DEFAULT)
    assert claim_unclassified(conn, RULES_VERSION, taxonomy.hash, 10) == sorted(ids.values())
    assert unclassified_count(conn)[0] == 3
    classify_articles(conn, list(ids.values()), DEFAULT)
    conn.commit()
    assert claim_unclassified(conn, RULES_VERSION, taxonomy.hash, 10) == []
    assert unclassified_count(conn)[0] == 0
    forget_labels(conn, [ids["market"]])
    assert claim_unclassified(conn, RULES_VERSION, taxonomy.hash, 10) == [ids["market"]]
    classify_articles(conn, [ids["market"]], DEFAULT)
    conn.commit()
    assert mark_stale(conn, RULES_VERSION, "another-taxonomy") == 3
    assert mark_stale(conn, RULES_VERSION, "another-taxonomy") == 0, "marked once per change"
    conn.commit()
    assert claim_unclassified(conn, RULES_VERSION, "another-taxonomy", 2) == sorted(ids.values())[:2]
    conn.rollback()
    assert unclassified_count(conn)[0] == 3
    # Back to the first taxonomy before anything was relabelled: the articles stay pending until labelled.
    assert claim_unclassified(conn, RULES_VERSION, taxonomy.hash, 10) == sorted(ids.values())


def test_reclassify_after_a_taxonomy_edit(conn: psycopg.Connection[Any], database_url: str, tmp_path: Path) -> None:
    ids = add_articles(conn, ARCHIVE)
    conn.commit()
    taxonomy_file = tmp_path / "topics.yaml"
    taxonomy_file.write_text(DEFAULT.read_text(encoding="utf-8"), encoding="utf-8")
    settings = load_settings().with_overrides(database_url=database_url, topics_file=taxonomy_file, home=tmp_path)
    seen: list[tuple[int, int]] = []

    def relabel() -> dict[str, int]:
        report = reclassify(settings, on_batch=lambda d, t: seen.append((d, t)))
        assert report.status == "success"
        return report.counts.get("reclassify", {})

    first = relabel()
    assert first["classified"] == 3 and seen == [(1, 1)]
    assert relabel().get("classified", 0) == 0, "nothing is stale the second time"
    # The analyst drops "detention" and teaches "attacks" nothing new: the prison article loses a label.
    text = taxonomy_file.read_text(encoding="utf-8")
    start, end = text.index("  - id: detention"), text.index("  - id: strategy-propaganda")
    taxonomy_file.write_text(text[:start] + text[end:], encoding="utf-8")
    second = relabel()
    assert second["classified"] == 3
    assert second["changed"] >= 1
    assert second["topics_removed"] == 1
    topics = {r[0] for r in conn.execute("SELECT topic_id FROM article_topics").fetchall()}
    assert "detention" not in topics
    assert conn.execute("SELECT count(*) FROM topics WHERE id = 'detention'").fetchone()[0] == 0
    third = relabel()
    assert third.get("classified", 0) == third.get("changed", 0) == third["topics_removed"] == 0
    stored = conn.execute("SELECT DISTINCT taxonomy_hash FROM article_classifications").fetchall()
    assert stored == [(load_taxonomy(taxonomy_file).hash,)]
    runs = conn.execute("SELECT kind, status FROM pipeline_runs ORDER BY id").fetchall()
    assert runs == [("reclassify", "success")] * 4, "every relabelling is a recorded run"
    assert ids


def test_classify_command_reads_json_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import typer

    from pipeline.cli import classify as cli_classify

    app, eval_app = typer.Typer(), typer.Typer()
    app.add_typer(eval_app, name="eval")
    cli_classify.register(app, eval_app)
    monkeypatch.setenv("NEWSFLOW_HOME", str(tmp_path))
    lines = [json.dumps({"id": k, "title": t, "text": x}) for k, (t, x) in ARCHIVE.items()]
    lines += ["{broken", json.dumps({"id": "empty", "title": "", "text": ""})]
    result = CliRunner().invoke(app, ["classify", "--taxonomy", str(DEFAULT)], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {"bomb", "prison", "market"}
    assert by_id["bomb"]["relevant"] and by_id["bomb"]["topics"][0]["topic"] == "attacks"
    assert by_id["market"] == {"id": "market", "topics": [], "relevant": False}


def test_classify_command_skips_a_line_it_cannot_read_and_labels_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    from pipeline.cli import classify as cli_classify

    app, eval_app = typer.Typer(), typer.Typer()
    app.add_typer(eval_app, name="eval")
    cli_classify.register(app, eval_app)
    monkeypatch.setenv("NEWSFLOW_HOME", str(tmp_path))
    title, text = ARCHIVE["bomb"]
    lines = [
        json.dumps({"id": "bomb", "title": title, "text": text}).encode(),
        b'{"id": "surrogate", "title": "ISIS \\ud800 bomb", "text": "' + text.encode() + b'"}',
        b'{"id": 10, "title": "\xff", "text": "\xc3\x28"}',
    ]
    result = CliRunner().invoke(app, ["classify", "--taxonomy", str(DEFAULT)], input=b"\n".join(lines) + b"\n")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [r["id"] for r in rows] == ["bomb", "surrogate"] and rows[1]["relevant"]
    assert "skip:bad_encoding" in result.output
