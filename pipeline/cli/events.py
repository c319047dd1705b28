"""Commands `newsflow events` (JSON lines in, one line per event out) and `newsflow eval events` (the seeds
against GOLD.md E1–E9, and IndiaPoliceEvents KILL/ARREST beside a keyword baseline from the same run)."""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pipeline.cli.common import err, out
from pipeline.dates import parse_time
from pipeline.errors import ConfigError, Skip
from pipeline.textclean import json_objects

MIN_YEAR, MAX_YEAR = 1800, 2200  # a published_at outside is a broken record (and dates near 9999 overflow)
MAX_TEXT_CHARS = 2_000_000  # longer texts are cut (a hostile or broken record must not stall the run)


def _document(row: Any) -> tuple[Any, str, datetime | None]:
    """(id, text, published_at) of one input line; raises Skip with the reason when it cannot be one."""
    if not isinstance(row, dict):
        raise Skip("not_an_object")
    doc_id = row.get("id")
    if doc_id is None or str(doc_id) == "":
        raise Skip("no_id")
    text = row.get("text")
    if not isinstance(text, str) or not text.strip():
        raise Skip("no_text", str(doc_id))
    published = parse_time(row.get("published_at"))
    if published is None:
        raise Skip("no_published_at", str(doc_id))  # relative dates ("on Tuesday") need it
    if not MIN_YEAR <= published.year <= MAX_YEAR:
        raise Skip("bad_date", f"{doc_id}: published_at {published.date()} is not a news date")
    return doc_id, text[:MAX_TEXT_CHARS], published


def events_command(
    background: Annotated[
        bool, typer.Option(help="Also write events dated over a year before publication (with background: true).")
    ] = False,
) -> None:
    """Read articles as JSON lines on stdin (id, text, published_at, url?, title?); write one line per event:
    id, event_type, sub_event_type, event_date, date_precision, place, country, lat, lon, geo_precision,
    actor1, actor2, killed, injured, detained, sentence (null where unknown)."""
    from pipeline.events import mentions_in

    counts: Counter[str] = Counter()
    for lineno, row in json_objects(sys.stdin.buffer):
        try:
            if isinstance(row, Skip):
                raise row
            doc_id, text, published = _document(row)
        except Skip as skip:
            counts[f"skip:{skip.reason}"] += 1
            err.print(f"line {lineno}: skipped, {skip}")
            continue
        try:
            found = mentions_in(text, published)
        except Exception as exc:  # input no rule foresaw: this document fails, never the stream
            counts["failed:error"] += 1
            err.print(f"line {lineno}: failed, {type(exc).__name__}: {exc}")
            continue
        counts["documents"] += 1
        for mention in found:
            if mention.background and not background:
                counts["background_skipped"] += 1
                continue
            row = mention.as_json(doc_id)
            if background:
                row["background"] = mention.background
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            counts["events"] += 1
    sys.stdout.flush()
    err.print(", ".join(f"{k} = {v}" for k, v in sorted(counts.items())) or "no input")


def eval_events_command(
    data: Annotated[
        Path | None, typer.Option(help="The evaluation corpus (default: NEWSFLOW_EVAL_DATA or ../shared/corpus).")
    ] = None,
) -> None:
    """Seeds against GOLD.md (E1–E9: type family, date, place) and IndiaPoliceEvents documents (KILL, ARREST
    F1 on train and dev) beside a keyword baseline run now."""
    from pipeline.cli.dedup import eval_data_dir
    from pipeline.events.evaluate import evaluate_ipe, evaluate_seeds

    root = data or eval_data_dir()
    seeds, ipe = root / "seeds", root / "classification"
    if not seeds.is_dir() or not (ipe / "ipe_docs-train.jsonl").is_file():
        raise ConfigError(f"{root}: no seeds/ or classification/ipe_docs-*.jsonl (set NEWSFLOW_EVAL_DATA)")
    started = time.perf_counter()
    report = evaluate_seeds(seeds)
    table = Table("gold", "found", "type", "sub-event type", "date", "place", "killed/injured/detained",
                  title="seeds: GOLD.md events")  # fmt: skip
    for gold_id, m in report.found.items():
        if m is None:
            table.add_row(gold_id, "no", "", "", "", "", "")
            continue
        toll = "/".join(str(m.counts.get(k, "-")) for k in ("killed", "injured", "detained"))
        day = f"{m.when.day} ({m.when.precision})"
        table.add_row(
            gold_id, "yes", m.event_type, m.sub_event_type, day, f"{m.place.name} ({m.place.precision})", toll
        )
    out.print(table)
    for title, rows in (("spurious (not in GOLD)", report.spurious), ("past events in 004 (not in GOLD)", report.past)):
        listing = Table("doc", "type", "date", "place", "sentence", title=title)
        for doc, m in rows:
            listing.add_row(doc, m.sub_event_type, str(m.when.day), m.place.name, m.sentence[:100])
        out.print(listing)
    out.print(
        f"seeds: {len(report.right)}/{len(report.found)} gold events right ({', '.join(report.right)}); "
        f"{len(report.spurious)} spurious; {len(report.past)} past events from 004 to read; "
        f"{report.background} background mentions set aside ({time.perf_counter() - started:.1f} s)"
    )
    ipe_report = evaluate_ipe(ipe)
    scores = Table("split", "method", "label", "P", "R", "F1", title="IndiaPoliceEvents documents")
    for split, methods in ipe_report.scores.items():
        for method, labels in methods.items():
            for label, (p, r, f) in labels.items():
                scores.add_row(f"{split} (n={ipe_report.n[split]})", method, label, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}")
    out.print(scores)
    chosen = ", ".join(f"{k} {v:.3f}" for k, v in ipe_report.selection.items())
    out.print(f"KILL rule chosen on train: {ipe_report.kill_rule} (train F1: {chosen})")


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command("events")(events_command)
    eval_app.command("events")(eval_events_command)
