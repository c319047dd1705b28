"""`newsflow events` and `newsflow eval events` as a user runs them: a real process, JSON lines in and out."""

from __future__ import annotations

import json
import re

from tests.test_cli import newsflow

FIELDS = {
    "id", "event_type", "sub_event_type", "event_date", "date_precision", "place", "country", "lat", "lon",
    "geo_precision", "actor1", "actor2", "killed", "injured", "detained", "sentence",
}  # fmt: skip


def _run(lines: list[str], *args: str):
    import os
    import subprocess

    from tests.test_cli import NEWSFLOW

    return subprocess.run(
        [NEWSFLOW, "events", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=300,
    )


def test_events_writes_one_line_per_event_with_every_field():
    article = {
        "id": "a1",
        "published_at": "2026-03-12T09:00:00Z",
        "url": "https://one.example/a",
        "text": "A car bomb killed 7 people and wounded 12 in Kabul on Monday.\n"
        "Police arrested two suspects in northern Afghanistan on Tuesday.\n"
        "The army will launch an offensive next week.",
    }
    result = _run([json.dumps(article), "not json", json.dumps({"id": "a2", "text": "no date"})])
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(r) for r in rows] == [FIELDS, FIELDS]
    bomb, arrest = rows
    assert bomb["id"] == "a1" and bomb["event_date"] == "2026-03-09" and bomb["country"] == "Afghanistan"
    assert (bomb["killed"], bomb["injured"], bomb["detained"], bomb["actor1"]) == (7, 12, None, None)
    assert bomb["geo_precision"] == "town" and abs(bomb["lat"] - 34.53) < 0.2
    assert arrest["sub_event_type"] == "Arrests" and arrest["geo_precision"] == "region"
    assert "skip:bad_json = 1" in result.stderr and "skip:no_published_at = 1" in result.stderr


def test_background_events_only_on_request():
    article = {
        "id": "b",
        "published_at": "2026-03-12",
        "text": "On May 2, 2019, a suicide bomber killed 20 people in Kirkuk.",
    }
    assert _run([json.dumps(article)]).stdout == ""
    (row,) = [json.loads(line) for line in _run([json.dumps(article)], "--background").stdout.splitlines()]
    assert row["background"] is True and row["event_date"] == "2019-05-02"


def test_eval_events_reports_seeds_and_ipe_beside_the_baseline(shared_corpus):
    result = newsflow("eval", "events", env={"NEWSFLOW_EVAL_DATA": str(shared_corpus)}, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    seeds = re.search(r"seeds: (\d)/9 gold events right .*?; (\d+) spurious", result.stdout)
    assert seeds and int(seeds.group(1)) >= 8 and int(seeds.group(2)) <= 1
    for method in ("events", "keyword baseline"):
        for label in ("ARREST", "KILL"):
            assert re.search(rf"dev \(n=\d+\)\s*│\s*{method}\s*│\s*{label}", result.stdout), (method, label)
