"""The analyst's side against a real PostgreSQL: search, gaps, exports (library and commands)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from analyst_world import seed
from rich.console import Console
from typer.testing import CliRunner

from pipeline.analysis.export import export
from pipeline.analysis.gaps import day_ranges, find_gaps
from pipeline.analysis.queries import MARK_START, MARK_STOP
from pipeline.analysis.search import SearchFilters, highlight, search
from pipeline.cli import analyst as cli_analyst
from pipeline.errors import ConfigError


@pytest.fixture()
def world(conn: Any) -> dict[str, int]:
    return seed(conn)


@pytest.fixture()
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("NEWSFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(cli_analyst, "out", Console(width=250))
    app = typer.Typer()
    cli_analyst.register(app, typer.Typer())
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, list(args), catch_exceptions=code != 0)
        assert result.exit_code == code, result.output
        return result

    return run


def _plain(output: str) -> str:
    """A usage error's text without the box rich draws around it."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


# ---------------------------------------------------------------- search


def test_search_ranks_matches_with_story_and_snippet(conn: Any, world: dict[str, int]) -> None:
    hits = search(conn, "Deir ez-Zor checkpoint")
    assert {h.id for h in hits} == {world["wire"], world["copy"]}  # "checkpoint" is in both, not in local's
    wire = next(h for h in hits if h.id == world["wire"])
    assert wire.cluster_size == 2 and wire.cluster_outlets == ["paper.example", "wire.example"]
    assert wire.topics == ["attacks"] and wire.relation == "original"
    assert MARK_START + "checkpoint" + MARK_STOP in wire.snippet
    assert highlight(wire.snippet, "<", ">").count("<Deir ez-Zor>") == 1  # neighbouring matches marked as one
    # who reported its event independently: the wire and the local outlet (the copy counts as the wire)
    (event,) = wire.events
    assert event["place"] == "Deir ez-Zor" and event["independent_sources"] == 2
    assert event["sources"] == ["local.example", "paper.example", "wire.example"]
    assert wire.event_lines() == [
        "2024-03-05 attack in Deir ez-Zor, 4 killed: 2 independent source(s) "
        "(local.example, wire.example); copies in paper.example"
    ]
    assert [h.rank for h in hits] == sorted((h.rank for h in hits), reverse=True)
    # English stemming: "attacks" finds "attacked"; all three English reports of the attack match
    stemmed = {h.id for h in search(conn, "Deir ez-Zor attacks")}
    assert {world["wire"], world["copy"], world["local"]} <= stemmed and world["football"] not in stemmed


def test_search_filters(conn: Any, world: dict[str, int]) -> None:
    def ids(**kw: Any) -> set[int]:
        return {h.id for h in search(conn, "Deir ez-Zor", SearchFilters(**kw))}

    everything = ids()
    assert {world["wire"], world["copy"], world["local"]} <= everything
    assert world["copy"] not in ids(originals_only=True) and world["wire"] in ids(originals_only=True)
    assert ids(outlets=("local.example",)) == {world["local"]}
    assert ids(date_from=date(2024, 3, 5), date_to=date(2024, 3, 5)) == {world["wire"], world["copy"], world["local"]}
    assert ids(date_to=date(2024, 3, 4)) == set()
    assert ids(topics=("attacks",)) == {world["wire"], world["copy"], world["local"]}
    assert ids(topics=("detentions",)) == set()
    assert ids(languages=("ar",)) == set()  # the Arabic report spells the place in Arabic
    assert {h.id for h in search(conn, "raids", SearchFilters(relevant_only=True))} == {world["local"]}


def test_search_finds_non_english_words_as_written(conn: Any, world: dict[str, int]) -> None:
    hits = search(conn, "دير الزور", SearchFilters(languages=("ar",)))
    assert [h.id for h in hits] == [world["arabic"]]
    assert MARK_START in hits[0].snippet


SYNONYMS = Path(__file__).resolve().parents[1] / "config" / "synonyms.yaml"


def test_a_name_of_the_group_in_a_search_stands_for_all_its_names(conn: Any, world: dict[str, int]) -> None:
    from pipeline.analysis.synonyms import load_synonyms

    groups = load_synonyms(SYNONYMS)
    extra = {
        "daesh": ("https://d.example/1", "d.example", "Daesh cells struck a Syrian Democratic Forces post near Raqqa."),
        "isis": ("https://i.example/1", "i.example", "ISIS claimed a bombing in Raqqa, its statement said."),
    }
    for key, (url, source, text) in extra.items():
        world[key] = conn.execute(
            """INSERT INTO articles (url, source, title, text, word_count, content_hash, extractor)
               VALUES (%s, %s, %s, %s, 9, %s, 'test') RETURNING id""",
            (url, source, text[:30], text, key),
        ).fetchone()[0]
    plain = {h.id for h in search(conn, "Daesh Raqqa")}
    assert world["daesh"] in plain and world["isis"] not in plain, "without the groups, only what says Daesh"
    found = {h.id for h in search(conn, "Daesh Raqqa", synonyms=groups)}
    assert {world["daesh"], world["isis"]} <= found
    assert world["local"] in {h.id for h in search(conn, "isis SDF", synonyms=groups)}  # "Islamic State ... SDF"
    excluded = {h.id for h in search(conn, "Raqqa -ISIS", synonyms=groups)}
    assert world["daesh"] in excluded and world["isis"] not in excluded, "an excluded name stays one word"


def test_a_broken_synonyms_file_names_the_place(tmp_path: Path) -> None:
    from pipeline.analysis.synonyms import load_synonyms

    bad = tmp_path / "synonyms.yaml"
    bad.write_text("groups:\n  - [ISIS, Daesh]\n  - [lonely]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"groups\[1\]: a group is a list of at least two names"):
        load_synonyms(bad)


def test_search_refuses_unknown_names_with_close_ones(conn: Any, world: dict[str, int]) -> None:
    with pytest.raises(ConfigError, match="local.example"):
        search(conn, "attack", SearchFilters(outlets=("locall.example",)))
    with pytest.raises(ConfigError, match="backfill --source"):
        search(conn, "attack", SearchFilters(outlets=("warc:/archive/cc-news",)))
    with pytest.raises(ConfigError, match="attacks"):
        search(conn, "attack", SearchFilters(topics=("attack",)))
    with pytest.raises(ConfigError, match="before"):
        search(conn, "attack", SearchFilters(date_from=date(2024, 3, 5), date_to=date(2024, 3, 1)))
    with pytest.raises(ConfigError, match="empty"):
        search(conn, "  ")


def test_search_command_formats(cli: Any, world: dict[str, int]) -> None:
    table = cli("search", "Deir ez-Zor", "--originals-only").output
    assert "Islamic State fighters attacked" in table and "paper.example, wire.example" in table
    assert "2 independent source(s)" in table
    assert "IS attack on SDF checkpoint" not in table  # the copy
    lines = cli("search", "Deir ez-Zor", "--format", "jsonl", "--outlet", "local.example").output.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [world["local"]]
    assert "**" in records[0]["snippet"] and records[0]["published_at"].startswith("2024-03-05")
    rows = list(csv.DictReader(io.StringIO(cli("search", "checkpoint", "--format", "csv").output)))
    assert {r["outlet"] for r in rows} == {"wire.example", "paper.example"} and "cluster_size" in rows[0]
    assert "no article matches" in cli("search", "zzzunknownword").output
    refused = cli("search", "attack", "--outlet", "warc:/x", code=1)
    assert isinstance(refused.exception, ConfigError) and "backfill --source" in str(refused.exception)
    assert "use --outlet wire.example" in _plain(cli("search", "attack", "--source", "wire.example", code=2).output)


# ---------------------------------------------------------------- gaps


def _article(conn: Any, url: str, source: str, published: datetime | None, fetched: datetime | None = None) -> None:
    raw = None
    if fetched is not None:
        raw = conn.execute(
            """INSERT INTO raw_pages (url, body_gz, body_sha256, body_bytes, source, fetched_at)
               VALUES (%s, '', '', 0, 'backfill:warc', %s) RETURNING id""",
            (url, fetched),
        ).fetchone()[0]
    conn.execute(
        """INSERT INTO articles (url, source, text, word_count, content_hash, extractor, published_at, raw_page_id)
           VALUES (%s, %s, 'x', 1, %s, 't', %s, %s)""",
        (url, source, url, published, raw),
    )


def test_gaps_by_outlet_with_ranges_and_scope(conn: Any) -> None:
    for day in (1, 2, 4):
        _article(conn, f"https://a.example/{day}", "a.example", datetime(2024, 3, day, 23, 30, tzinfo=UTC))
    _article(conn, "https://b.example/1", "b.example", datetime(2024, 3, 3, 0, 10, tzinfo=UTC))
    _article(conn, "https://old.example/1", "old.example", datetime(2020, 1, 1, tzinfo=UTC))
    conn.commit()
    report = find_gaps(conn, date(2024, 3, 1), date(2024, 3, 5))
    assert report.outlets == ["a.example", "b.example"]  # old.example has nothing near the window
    assert [(g.outlet, g.first, g.last) for g in report.gaps] == [
        ("a.example", date(2024, 3, 3), date(2024, 3, 3)),
        ("a.example", date(2024, 3, 5), date(2024, 3, 5)),
        ("b.example", date(2024, 3, 1), date(2024, 3, 2)),
        ("b.example", date(2024, 3, 4), date(2024, 3, 5)),
    ]
    hint = report.backfill_command(report.gaps[2])
    assert hint == "newsflow backfill --source sitemap:https://b.example/ --from 2024-03-01 --to 2024-03-02"
    every = find_gaps(conn, date(2024, 3, 1), date(2024, 3, 5), every_outlet=True)
    assert "old.example" in every.outlets
    assert find_gaps(conn, date(2024, 3, 1), date(2024, 3, 2), outlets=["a.example"]).gaps == []
    assert day_ranges([date(2024, 3, 2), date(2024, 3, 1), date(2024, 3, 4)]) == [
        (date(2024, 3, 1), date(2024, 3, 2)),
        (date(2024, 3, 4), date(2024, 3, 4)),
    ]
    with pytest.raises(ConfigError, match="a.example"):
        find_gaps(conn, date(2024, 3, 1), date(2024, 3, 2), outlets=["a.exampel"])


def test_gaps_by_crawl_date_follow_the_warc_window(conn: Any) -> None:
    # published on the 1st, archived (WARC-Date) on the 3rd: a WARC backfill of the 3rd loaded it
    _article(conn, "https://w.example/1", "w.example", datetime(2024, 3, 1, 12, tzinfo=UTC),
             fetched=datetime(2024, 3, 3, 6, tzinfo=UTC))  # fmt: skip
    conn.commit()
    by_published = find_gaps(conn, date(2024, 3, 1), date(2024, 3, 3), by="published")
    by_crawl = find_gaps(conn, date(2024, 3, 1), date(2024, 3, 3), by="crawl")
    assert [(g.first, g.last) for g in by_published.gaps] == [(date(2024, 3, 2), date(2024, 3, 3))]
    assert [(g.first, g.last) for g in by_crawl.gaps] == [(date(2024, 3, 1), date(2024, 3, 2))]
    assert by_crawl.backfill_command(by_crawl.gaps[0]).startswith("newsflow backfill --source warc:")


def test_gaps_command_says_what_it_counts_and_when_there_are_none(cli: Any, conn: Any) -> None:
    for day in (1, 2):
        _article(conn, f"https://a.example/{day}", "a.example", datetime(2024, 3, day, 12, tzinfo=UTC))
    conn.commit()
    none = cli("gaps", "--from", "2024-03-01", "--to", "2024-03-02").output
    assert "no gaps" in none and "publication date" in none and "no outlets" not in none
    some = cli("gaps", "--from", "2024-03-01", "--to", "2024-03-03", "--by", "crawl", "--outlet", "a.example").output
    assert "crawl date" in some and "newsflow backfill --source" in some and "2024-03-01" in some
    assert "no outlet has articles" in cli("gaps", "--from", "2030-01-01", "--to", "2030-01-02").output
    unknown = cli("gaps", "--from", "2024-03-01", "--to", "2024-03-02", "--outlet", "a.exampel", code=1)
    assert isinstance(unknown.exception, ConfigError) and "close names: a.example" in str(unknown.exception)
    archive = cli("gaps", "--from", "2024-03-01", "--to", "2024-03-02", "--source", "warc:/data", code=2)
    assert "archive to load" in _plain(archive.output) and "--outlet" in archive.output


# ---------------------------------------------------------------- export


def _export(conn: Any, kind: str, fmt: str, **kw: Any) -> str:
    buffer = io.StringIO()
    export(conn, kind, fmt, buffer, **kw)
    conn.rollback()
    return buffer.getvalue()


def test_export_csv_and_jsonl(conn: Any, world: dict[str, int]) -> None:
    rows = list(csv.DictReader(io.StringIO(_export(conn, "articles", "csv", first=date(2024, 3, 5)))))
    assert {int(r["id"]) for r in rows} == {world[k] for k in ("wire", "copy", "local", "football")}
    assert "text" not in rows[0] and next(r for r in rows if int(r["id"]) == world["wire"])["topics"] == "attacks"
    with_text = [json.loads(x) for x in _export(conn, "articles", "jsonl", with_text=True).splitlines()]
    assert len(with_text) == len(world) and all(r["text"] for r in with_text)
    events = [json.loads(x) for x in _export(conn, "events", "jsonl", first=date(2024, 3, 1)).splitlines()]
    assert len(events) == 1 and events[0]["independent_sources"] == 2 and events[0]["event_date"] == "2024-03-05"
    assert sorted(events[0]["sources"]) == ["local.example", "paper.example", "wire.example"]
    assert _export(conn, "events", "jsonl", last=date(2024, 3, 4)) == ""
    clusters = list(csv.DictReader(io.StringIO(_export(conn, "clusters", "csv"))))
    assert [(r["source"], r["relation"]) for r in clusters] == [("wire.example", "original"), ("paper.example", "copy")]
    with pytest.raises(ConfigError, match="parquet"):
        export(conn, "events", "parquet", io.StringIO())


def test_export_parquet(conn: Any, world: dict[str, int], tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (the optional 'parquet' extra) is not installed")
    path = tmp_path / "articles.parquet"
    assert export(conn, "articles", "parquet", path, first=date(2024, 3, 4), last=date(2024, 3, 5)) == 5
    table = pq.read_table(path)
    assert table.num_rows == 5 and str(table.schema.field("published_at").type) == "timestamp[us, tz=UTC]"
    assert table.schema.field("topics").type.value_type == "string"
    assert {r["id"]: r["topics"] for r in table.to_pylist()}[world["wire"]] == ["attacks"]
    assert sorted(table.column("id").to_pylist()) == sorted(world[k] for k in world if k != "old")
    empty = tmp_path / "none.parquet"
    assert export(conn, "events", "parquet", empty, first=date(2030, 1, 1)) == 0
    assert pq.read_table(empty).num_rows == 0 and "independent_sources" in pq.read_table(empty).column_names


def test_export_command(cli: Any, world: dict[str, int], tmp_path: Path) -> None:
    target = tmp_path / "events.jsonl"
    result = cli("export", "events", "--from", "2024-03-01", "--to", "2024-03-31", "--format", "jsonl",
                 "--out", str(target))  # fmt: skip
    assert json.loads(target.read_text().splitlines()[0])["place"] == "Deir ez-Zor"
    assert "1 events row(s) written" in result.output
    bad = cli("export", "people", code=2)
    assert "articles, events, clusters" in bad.output


@pytest.mark.parametrize(
    ("query", "rest", "groups"),
    [
        ("Daesh Hamrin", "Hamrin", ["Islamic State"]),
        ('"Islamic State" Mosul', "Mosul", ["Islamic State"]),
        ("islamic state attack", "attack", ["Islamic State"]),
        ("ISIS, Mosul", "Mosul", ["Islamic State"]),
        ("SDF Raqqa daesh", "Raqqa", ["Islamic State", "Syrian Democratic Forces"]),
        # left as written: exclusions, OR in any case, a name inside a longer word or phrase
        ("-ISIS Mosul", "-ISIS Mosul", []),
        ('-"Islamic State" Hamrin', '-"Islamic State" Hamrin', []),
        ('Hamrin -"Daesh"', 'Hamrin -"Daesh"', []),
        ("daesh or Hamrin", "daesh or Hamrin", []),
        ('"ISIS-K" Kabul', '"ISIS-K" Kabul', []),
        ("ISIS-K attack", "ISIS-K attack", []),
        ('"the Islamic State attack"', '"the Islamic State attack"', []),
    ],
)
def test_query_expansion_reads_the_query_as_websearch_does(query: str, rest: str, groups: list[str]) -> None:
    from pipeline.analysis.synonyms import expand_query, load_synonyms

    expanded = expand_query(query, load_synonyms(SYNONYMS))
    assert (expanded.rest, [g[0] for g in expanded.groups]) == (rest, groups)
