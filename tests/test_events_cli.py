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


def test_one_unusable_line_is_one_skip_and_the_rest_is_read():
    import os
    import subprocess

    from tests.test_cli import NEWSFLOW

    story = "A car bomb killed 7 people in Kabul on Monday."
    good = {"id": "ok", "published_at": "2026-03-12T09:00:00Z", "text": story}
    lines = [
        b'{"id": "s", "published_at": "2026-03-12T09:00:00Z", "text": "A bomb \\ud800 killed 3 in Kabul on Monday."}',
        b'{"id": "b", "published_at": "2026-03-12T09:00:00Z", "text": "\xff\xc3\x28"}',
        json.dumps({"id": "far", "published_at": "9999-12-31T23:59:59Z", "text": story}).encode(),
        json.dumps(good).encode(),
    ]
    done = subprocess.run([NEWSFLOW, "events"], input=b"\n".join(lines) + b"\n", capture_output=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    ids = [json.loads(line)["id"] for line in done.stdout.decode().splitlines()]
    assert ids == ["s", "ok"], (ids, stderr)
    assert "skip:bad_encoding = 1" in stderr and "skip:bad_date = 1" in stderr and "Traceback" not in stderr
