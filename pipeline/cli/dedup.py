"""Commands `newsflow dedup` (JSON lines in, one cluster assignment per article out) and
`newsflow eval dedup` (scores on a labelled set beside a MinHash-Jaccard baseline from the same run)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from rich.table import Table

from pipeline.cli.common import err, out
from pipeline.dates import parse_time
from pipeline.errors import ConfigError, Skip
from pipeline.jsonl import read_jsonl
from pipeline.settings import PROJECT_ROOT
from pipeline.syndication import Record, dedup_records
from pipeline.syndication.evaluate import (
    ML_SOURCE,
    MULTILINGUAL,
    minhash_baseline,
    multilingual_set,
    score,
    scripts_of,
)

MAX_TEXT_CHARS = 2_000_000  # longer texts are cut (a hostile or broken record must not stall the run)


def eval_data_dir() -> Path:
    """`NEWSFLOW_EVAL_DATA`, else ../shared/corpus next to the project root."""
    configured = os.environ.get("NEWSFLOW_EVAL_DATA")
    return Path(configured).expanduser() if configured else PROJECT_ROOT.parent / "shared" / "corpus"


def record_from_json(row: Any) -> Record:
    """One input line as a Record; a line that cannot be one raises Skip with the reason."""
    if not isinstance(row, dict):
        raise Skip("not_an_object")
    key = row.get("id")
    if key is None or str(key) == "":
        raise Skip("no_id")
    text = row.get("text")
    if not isinstance(text, str):
        raise Skip("no_text", str(key))
    return Record(
        key=str(key),
        text=text[:MAX_TEXT_CHARS],
        published_at=parse_time(row.get("published_at")),
        source=str(row.get("source") or ""),
        url=str(row.get("url") or ""),
        title=str(row.get("title") or ""),
    )


def read_records(stream: TextIO, counts: Counter[str]) -> list[Record]:
    records: list[Record] = []
    seen: set[str] = set()
    for line in stream:
        if not line.strip():
            continue
        try:
            record = record_from_json(json.loads(line))
        except json.JSONDecodeError:
            counts["skip:bad_json"] += 1
            continue
        except Skip as skip:
            counts[f"skip:{skip.reason}"] += 1
            continue
        if record.key in seen:
            counts["skip:duplicate_id"] += 1
            continue
        seen.add(record.key)
        records.append(record)
    return records


def dedup_command(
    window_days: Annotated[int, typer.Option(min=0, help="Compare articles published within +-N days.")] = 30,
) -> None:
    """Read articles as JSON lines on stdin (id, url, source, title, text, published_at); write one line
    per article: id, cluster_id, canonical_id, relation (original|duplicate|copy), score; and, for a copy
    that kept a paragraph but changed its figures, changed: [{original, copy}]."""
    counts: Counter[str] = Counter()
    records = read_records(sys.stdin, counts)
    with err.status(f"matching {len(records)} articles"):
        assignments = dedup_records(records, window_days=window_days)
    sizes = Counter(a.cluster_id for a in assignments)
    for a in assignments:
        line = {
            "id": a.key,
            "cluster_id": a.cluster_id,
            "canonical_id": a.canonical_id,
            "relation": a.relation,
            "score": a.score,
        }
        if a.changed:  # a copy that kept a paragraph but changed its figures
            line["changed"] = a.changed
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        counts["singleton" if sizes[a.cluster_id] == 1 else a.relation] += 1
    _summary(counts)


def _summary(counts: Counter[str]) -> None:
    table = Table(title="dedup outcomes")
    table.add_column("outcome")
    table.add_column("articles", justify="right")
    for outcome, n in sorted(counts.items()):
        table.add_row(outcome, str(n))
    err.print(table)


def eval_dedup_command(
    dataset: Annotated[str, typer.Option(help="A folder under the evaluation data (NEWSFLOW_EVAL_DATA).")] = (
        "syndication-dev"
    ),
    window_days: Annotated[int, typer.Option(min=0)] = 30,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the scores here.")] = None,
) -> None:
    """Score syndication detection on a labelled set, beside a MinHash-Jaccard baseline run now.

    `--dataset multilingual` builds the set now from the trafilatura evaluation pages (copies made by
    dropping, reordering and editing paragraphs, in 20 languages) and also reports each language."""
    try:
        gold = _gold_rows(dataset)
        records = [
            record_from_json({k: r.get(k) for k in ("id", "url", "source", "title", "text", "published_at")})
            for r in gold
        ]
    except (ConfigError, Skip) as exc:
        err.print(f"[red]{dataset}: {exc}[/red]")
        raise typer.Exit(2) from exc
    results = {}
    ours: list[Any] = []
    for name, run in (
        ("newsflow containment", lambda: dedup_records(records, window_days=window_days)),
        ("MinHash LSH Jaccard>=0.5", lambda: minhash_baseline(records)),
    ):
        started = time.perf_counter()
        with err.status(f"running {name}"):
            assignments = run()
        ours = ours or assignments
        results[name] = (score(gold, assignments), time.perf_counter() - started)
    _print_scores(dataset, results)
    if any("language" in r for r in gold):
        _print_languages(gold, ours)
    if json_out is not None:
        json_out.write_text(
            json.dumps({k: {**s.as_dict(), "seconds": round(t, 2)} for k, (s, t) in results.items()}, indent=2) + "\n",
            encoding="utf-8",
        )


def _gold_rows(dataset: str) -> list[dict[str, Any]]:
    """The labelled rows of a data set: a folder with articles.jsonl, or the multilingual set built now."""
    if dataset == MULTILINGUAL:
        source = eval_data_dir() / ML_SOURCE
        if not (source / "evaldata.json").is_file():
            err.print(f"[red]no trafilatura evaluation pages at {source}[/red] (set NEWSFLOW_EVAL_DATA)")
            raise typer.Exit(2)
        with err.status(f"building the multilingual set from {source}"):
            return multilingual_set(source)
    path = eval_data_dir() / dataset / "articles.jsonl"
    if not path.is_file():
        err.print(f"[red]no data set at {path}[/red] (set NEWSFLOW_EVAL_DATA to the corpus folder)")
        raise typer.Exit(2)
    return read_jsonl(path)


def _print_languages(gold: list[dict[str, Any]], assignments: list[Any]) -> None:
    """Our scores per language (pairs inside each language's articles; copies stay in their base's)."""
    table = Table(title="newsflow containment, per language")
    for column in ("language", "articles", "copies", "P", "R", "F1", "canon"):
        table.add_column(column, justify="left" if column == "language" else "right")
    by_language: dict[str, list[dict[str, Any]]] = {}
    for row in gold:
        by_language.setdefault(str(row["language"]), []).append(row)
    for language, rows in sorted(by_language.items(), key=lambda kv: -len(kv[1])):
        keys = {str(r["id"]) for r in rows}
        s = score(rows, [a for a in assignments if a.key in keys])
        copies = sum(1 for r in rows if r.get("role") == "copy")
        table.add_row(
            language,
            str(len(rows)),
            str(copies),
            f"{s.precision:.4f}",
            f"{s.recall:.4f}",
            f"{s.f1:.4f}",
            f"{s.canon:.4f}",
        )
    out.print(table)
    print("scripts: " + ", ".join(f"{k} {v}" for k, v in sorted(scripts_of(gold).items())))


def _print_scores(dataset: str, results: dict[str, Any]) -> None:
    table = Table(title=f"eval dedup: {dataset}")
    for column in ("method", "P", "R", "F1", "canon", "pairs", "seconds"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name, (s, seconds) in results.items():
        table.add_row(
            name,
            f"{s.precision:.4f}",
            f"{s.recall:.4f}",
            f"{s.f1:.4f}",
            f"{s.canon:.4f}",
            f"{s.pairs_predicted}/{s.pairs_gold}",
            f"{seconds:.1f}",
        )
    out.print(table)
    ours = next(iter(results.values()))[0]
    print(f"dedup F1={ours.f1:.3f} P={ours.precision:.3f} R={ours.recall:.3f} canon={ours.canon:.3f} n={ours.n}")


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command("dedup")(dedup_command)
    eval_app.command("dedup")(eval_dedup_command)
