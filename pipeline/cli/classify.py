"""Classification commands: `classify` (JSON lines in, labels out), `reclassify`, `eval classify`."""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.table import Table

from pipeline.cli.common import current_settings, err, out

BATCH = 256


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.command("classify")(classify_command)
    app.command("reclassify")(reclassify_command)
    eval_app.command("classify")(eval_classify_command)


def classify_command(
    taxonomy: Annotated[Path | None, typer.Option(help="Taxonomy file (default: config/topics.yaml).")] = None,
) -> None:
    """Read JSON lines {id, title, text} on stdin; write {id, topics: [{topic, score}], relevant}."""
    from pipeline.classify import get_classifier, load_taxonomy

    settings = current_settings(topics_file=taxonomy)
    model = get_classifier(load_taxonomy(settings.topics_file), settings.home / "models")
    counts = {"classified": 0, "relevant": 0, "skip:bad_json": 0, "skip:no_text": 0}
    for batch in _batches(sys.stdin, counts):
        labels = model.classify([(title, text) for _, title, text in batch])
        for (doc_id, _, _), lab in zip(batch, labels, strict=True):
            topics = [{"topic": t, "score": s} for t, s in lab.topics]
            sys.stdout.write(json.dumps({"id": doc_id, "topics": topics, "relevant": lab.relevant}) + "\n")
            counts["classified"] += 1
            counts["relevant"] += int(lab.relevant)
    sys.stdout.flush()
    err.print(", ".join(f"{k} = {v}" for k, v in counts.items()) + f"  (classifier {model.version})")


def _batches(stream: IO[str], counts: dict[str, int]) -> Iterator[list[tuple[Any, str, str]]]:
    batch: list[tuple[Any, str, str]] = []
    for lineno, line in enumerate(stream, 1):
        if not line.strip():
            continue
        doc = _parse(line, lineno, counts)
        if doc is not None:
            batch.append(doc)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _parse(line: str, lineno: int, counts: dict[str, int]) -> tuple[Any, str, str] | None:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        counts["skip:bad_json"] += 1
        err.print(f"line {lineno}: skipped, not valid JSON ({exc.msg})")
        return None
    if not isinstance(row, dict):
        counts["skip:bad_json"] += 1
        err.print(f"line {lineno}: skipped, expected a JSON object")
        return None
    title, text = row.get("title") or "", row.get("text") or ""
    if not isinstance(title, str) or not isinstance(text, str) or not (title.strip() or text.strip()):
        counts["skip:no_text"] += 1
        err.print(f"line {lineno}: skipped, no title or text")
        return None
    return row.get("id", lineno), title, text


def reclassify_command(
    taxonomy: Annotated[Path | None, typer.Option(help="Taxonomy file (default: config/topics.yaml).")] = None,
) -> None:
    """Relabel the archive after a taxonomy or classifier change (only articles labelled otherwise)."""
    from pipeline.cli.common import batch_progress, print_report
    from pipeline.jobs.maintenance import reclassify

    settings = current_settings(topics_file=taxonomy)
    with batch_progress("reclassify") as on_batch:
        report = reclassify(settings, on_batch=on_batch)
    print_report(report)


def eval_classify_command(
    dataset: Annotated[str, typer.Option(help="satp or bbc")],
    predictions: Annotated[
        Path | None, typer.Option(help="Write {id, labels} JSON lines for the scored split.")
    ] = None,
) -> None:
    """Train on the data set's train split, tune thresholds on dev, report the published metric."""
    from pipeline.classify.evaluate import evaluate

    with tempfile.TemporaryDirectory() as folder:
        report = evaluate(dataset, Path(folder), predictions=predictions)
    title = f"{report.dataset} ({report.version})"
    table = Table("split", "example-F1", "micro-F1", "macro-F1", "n", title=title)
    for split, s in report.scores.items():
        figures = (f"{s[k]:.4f}" for k in ("example_f1", "micro_f1", "macro_f1"))
        table.add_row(split, *figures, str(s["n"]))
    out.print(table)
    labels = Table("label", "P", "R", "F1", "threshold")
    for label, (p, r, f) in report.per_label.items():
        labels.add_row(label, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", f"{report.thresholds.get(label, 0):.3f}")
    out.print(labels)
    out.print(
        "model selection (cross-validated on train): " + ", ".join(f"{k} {v:.4f}" for k, v in report.selection.items())
    )
    headline = report.scores.get("test") or report.scores["dev (tuned on dev)"]
    out.print(
        f"headline {report.metric} = {headline[report.metric]:.4f} (published best {report.published:.4f}); "
        f"train {report.train_seconds:.1f} s; {report.docs_per_second:.0f} docs/s"
    )
