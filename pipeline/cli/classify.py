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
from pipeline.errors import Skip
from pipeline.textclean import json_objects

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
    for batch in _batches(sys.stdin.buffer, counts):
        labels = model.classify([(title, text) for _, title, text in batch])
        for (doc_id, _, _), lab in zip(batch, labels, strict=True):
            topics = [{"topic": t, "score": s} for t, s in lab.topics]
            sys.stdout.write(json.dumps({"id": doc_id, "topics": topics, "relevant": lab.relevant}) + "\n")
            counts["classified"] += 1
            counts["relevant"] += int(lab.relevant)
    sys.stdout.flush()
    err.print(", ".join(f"{k} = {v}" for k, v in counts.items()) + f"  (classifier {model.version})")


def _batches(stream: IO[bytes], counts: dict[str, int]) -> Iterator[list[tuple[Any, str, str]]]:
    batch: list[tuple[Any, str, str]] = []
    for lineno, row in json_objects(stream):
        doc = _document(row, lineno, counts)
        if doc is not None:
            batch.append(doc)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _document(row: dict[str, Any] | Skip, lineno: int, counts: dict[str, int]) -> tuple[Any, str, str] | None:
    if isinstance(row, Skip):
        counts[f"skip:{row.reason}"] = counts.get(f"skip:{row.reason}", 0) + 1
        err.print(f"line {lineno}: skipped, {row.detail}")
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
    keywords: Annotated[bool, typer.Option(help="Add the hand-written keyword patterns to the taxonomy.")] = False,
) -> None:
    """Choose every setting by cross-validation on train, then score dev once (honest protocol)."""
    from pipeline.classify.evaluate import evaluate

    with tempfile.TemporaryDirectory() as folder:
        report = evaluate(dataset, Path(folder), predictions=predictions, keywords=keywords)
    title = f"{report.dataset} ({report.version})"
    table = Table("split", "example-F1", "micro-F1", "macro-F1", "n", title=title)
    if report.cv:
        ex, mi = report.cv["example_f1"], report.cv["micro_f1"]
        cv = (f"{ex[0]:.4f} ± {ex[1]:.4f}", f"{mi[0]:.4f} ± {mi[1]:.4f}")
        table.add_row("train, 5-fold CV", *cv, "", "")
    for split, s in report.scores.items():
        figures = (f"{s[k]:.4f}" for k in ("example_f1", "micro_f1", "macro_f1"))
        table.add_row(split, *figures, str(s["n"]))
    out.print(table)
    labels = Table("label", "P", "R", "F1", "threshold (CV on train)")
    for label, (p, r, f) in report.per_label.items():
        labels.add_row(label, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", f"{report.thresholds.get(label, 0):.3f}")
    out.print(labels)
    out.print(
        "model selection (cross-validated on train): " + ", ".join(f"{k} {v:.4f}" for k, v in report.selection.items())
    )
    split = "test" if "test" in report.scores else "dev"
    mean, sd = report.cv.get(report.metric, (0.0, 0.0))
    out.print(
        f"headline {report.metric}: train CV {mean:.4f} ± {sd:.4f}, {split} {report.scores[split][report.metric]:.4f} "
        f"(published best {report.published:.4f}); train {report.train_seconds:.1f} s; "
        f"{report.docs_per_second:.0f} docs/s"
    )
