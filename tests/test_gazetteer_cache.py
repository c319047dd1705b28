"""The events stage's gazetteer file: built once, outside the memory of the process that needs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Loads the gazetteer as a backfill's events stage does, reads one sentence, and reports the file, the
# place found and this process's peak memory.
_PROBE = """
import json, logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
from pipeline.events.gazetteer import StoredGazetteer, load_gazetteer
g = load_gazetteer()
found = g.resolve(g.matches("Fighters attacked a checkpoint in Mosul, Iraq."))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec from the (large) pytest process that forked us
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"stored": isinstance(g, StoredGazetteer), "places": sorted(p.name for p in found.values()),
                  "peak_mb": hwm / 1024}))
"""


def _probe(cache: str) -> tuple[dict[str, object], str]:
    env = {**os.environ, "NEWSFLOW_CACHE": cache, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=600, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_first_load_builds_the_file_in_a_child_process_and_stays_small(tmp_path: Path) -> None:
    first, _ = _probe(str(tmp_path))
    files = list(tmp_path.glob("gazetteer-*.sqlite"))
    assert len(files) == 1, "the first load writes the gazetteer file"
    assert first["stored"] is True and "Mosul" in first["places"]  # type: ignore[operator]
    # the in-memory build takes ~300 MB more; built by a child process it never counts here
    assert float(first["peak_mb"]) < 200, first  # type: ignore[arg-type]
    again, _ = _probe(str(tmp_path))
    assert again["places"] == first["places"] and list(tmp_path.glob("gazetteer-*.sqlite")) == files


def test_a_cache_that_cannot_be_written_falls_back_to_building_here(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    found, log = _probe(str(blocker))
    assert found["stored"] is False and "Mosul" in found["places"]  # type: ignore[operator]
    assert "not written by a child process" in log and "each process builds its own" in log


def test_setup_command_writes_the_file_once_and_reports_it(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSFLOW_CACHE": str(tmp_path), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "pipeline.events.build_gazetteer"]
    first = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=True)
    files = list(tmp_path.glob("gazetteer-*.sqlite"))
    assert len(files) == 1 and str(files[0]) in first.stdout
    mtime = files[0].stat().st_mtime_ns
    subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=True)
    assert files[0].stat().st_mtime_ns == mtime, "a second run leaves the file alone"
    off = subprocess.run(command, capture_output=True, text=True, env={**env, "NEWSFLOW_CACHE": ""}, check=True)
    assert "not cached" in off.stdout
    bad = subprocess.run([*command, "x"], capture_output=True, text=True, env=env, check=False)
    assert bad.returncode == 2 and "usage" in bad.stderr
