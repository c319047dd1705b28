"""Syndication matching without a database: normalization, the seed pair, the CLI, the eval gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.jsonl import read_jsonl
from pipeline.syndication import Record, dedup_records
from pipeline.syndication import text as text_module
from pipeline.syndication.evaluate import ML_SOURCE, minhash_baseline, multilingual_set, score
from pipeline.syndication.match import choose_original, compare, credited_domains, credits, prepare
from pipeline.syndication.text import fingerprints, normalize_tokens

ROOT = Path(__file__).resolve().parent.parent
SEED_DATES = {
    "000": ("nytimes.com", datetime(2018, 2, 4, 15, tzinfo=UTC)),
    "001": ("startribune.com", datetime(2018, 2, 5, 11, tzinfo=UTC)),
    "002": ("reuters.com", datetime(2025, 6, 10, tzinfo=UTC)),
    "003": ("washingtonpost.com", datetime(2016, 3, 24, tzinfo=UTC)),
    "004": ("ctc.westpoint.edu", datetime(2017, 12, 15, tzinfo=UTC)),
}
# Measured on syndication-dev (520 articles) with this code: P=0.9974 R=1.0000 F1=0.9987 canon=1.0000.
# The one false pair is a PoliticusUSA rewrite that quotes Vox's lede (gold keeps them apart).
DEV_GATE = {"f1": 0.995, "precision": 0.995, "recall": 0.995, "canon": 0.98}


def seed_records(seeds_dir: Path) -> list[Record]:
    out = []
    for prefix, (source, when) in SEED_DATES.items():
        path = next(seeds_dir.glob(f"{prefix}_*.txt"))
        text = path.read_text(encoding="utf-8")
        out.append(Record(key=prefix, text=text, published_at=when, source=source))
    return out


def test_house_style_variants_normalize_alike() -> None:
    a = normalize_tokens("The American-led campaign against the Islamic State killed 1,500 Al Qaeda men.")
    b = normalize_tokens("the U.S.-led campaign against ISIS killed 1500 al-Qaida men")
    assert a == b
    assert normalize_tokens("Mr. Smith\u2019s colour, 10 per cent") == normalize_tokens("Smith's color, 10%")


def test_fingerprints_are_stable_and_shared_by_copies() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    excerpt = " ".join(f"word{i}" for i in range(50, 90))
    full, part = set(fingerprints(normalize_tokens(text))), set(fingerprints(normalize_tokens(excerpt)))
    # Winnowing guarantee: the excerpt's interior windows are the full text's windows, so all but the
    # fingerprints chosen at the excerpt's two edges are fingerprints of the full text too.
    assert len(part) >= 3 and len(part - full) <= 2 and len(part & full) >= len(part) - 2
    assert fingerprints(normalize_tokens(text)) == fingerprints(normalize_tokens(text))
    assert fingerprints(["too", "short"]) == []


def test_phrase_folding_and_caches_give_the_same_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        "Per cent of the Islamic State of Iraq and Syria, the Islamic State group and IS group fighters; "
        "the United Nations said 3m people, $1,500, per day. Islamic leaders met in the United"
    )
    want = [
        "percent",
        "of",
        "isis",
        "isis",
        "and",
        "isis",
        "fighters",
        "un",
        "said",
        "3",
        "m",
        "people",
        "1500",
        "per",
        "day",
        "islamic",
        "leaders",
        "met",
        "in",
        "united",
    ]
    assert normalize_tokens(text) == want
    first = fingerprints(normalize_tokens(text * 3))
    text_module._WORD_CACHE.clear()
    text_module._HASH_CACHE.clear()
    monkeypatch.setattr(text_module, "CACHE_WORDS", 2)  # caches cleared again and again
    assert normalize_tokens(text) == want
    assert fingerprints(normalize_tokens(text * 3)) == first
    assert len(text_module._WORD_CACHE) <= 2 and len(text_module._HASH_CACHE) <= 2


def test_seed_copy_is_linked_to_the_nyt_original_only(seeds_dir: Path) -> None:
    out = {a.key: a for a in dedup_records(seed_records(seeds_dir))}
    assert out["001"].cluster_id == out["000"].cluster_id
    assert out["001"].canonical_id == "000" and out["001"].relation == "copy"
    assert out["000"].relation == "original"
    assert 0.4 < out["001"].score < 0.7
    others = {out[k].cluster_id for k in ("002", "003", "004")}
    assert len(others) == 3 and out["000"].cluster_id not in others
    assert any("Nielsen" in p for p in out["001"].added)


def test_seed_pair_by_containment_not_similarity(seeds_dir: Path) -> None:
    records = {r.key: prepare(r) for r in seed_records(seeds_dir)}
    pair = compare(records["000"], records["001"])
    assert pair.linked and pair.lede > 0.8
    for a, b in (("000", "002"), ("000", "003"), ("002", "004"), ("003", "004")):
        assert not compare(records[a], records[b]).linked


def test_roundup_borrowing_one_paragraph_is_not_a_copy(seeds_dir: Path) -> None:
    nyt = next(seeds_dir.glob("000_*.txt")).read_text(encoding="utf-8")
    paras = [p for p in nyt.splitlines() if p.strip()]
    wapo = next(seeds_dir.glob("003_*.txt")).read_text(encoding="utf-8")
    short = prepare(Record("short", "\n".join(paras[8:11])))  # a short story of three paragraphs
    roundup = prepare(Record("roundup", wapo[:3000] + "\n" + paras[9]))  # borrows its middle one
    pair = compare(short, roundup)
    assert pair.containment > 0.2 and pair.lede < 0.5
    assert not pair.linked


def test_credit_lines_name_the_originator() -> None:
    assert "reuters.com" in credited_domains("BEIRUT (Reuters) - Fighters fled the town on Sunday.")
    assert "apnews.com" in credited_domains("Copyright 2019 The Associated Press. All rights reserved.")
    assert "nytimes.com" in credited_domains("This article originally appeared in The New York Times.")
    assert credited_domains("A quiet day in the capital.") == set()


def test_tied_times_prefer_the_credited_outlet() -> None:
    day = datetime(2020, 1, 5, tzinfo=UTC)  # both only have a date
    body = "\n".join(f"Paragraph {i} of the wire story about the offensive near the border town." * 3 for i in range(8))
    wire = Record("wire", "BEIRUT (Reuters) - " + body, day, "reuters.com")
    paper = Record("paper", "(Reuters) - " + body + "\nLocal reaction was muted.", day, "paper.example")
    out = {a.key: a for a in dedup_records([paper, wire])}
    assert out["paper"].canonical_id == "wire" and out["wire"].relation == "original"


def test_cli_dedup_reads_jsonl_and_counts_bad_lines(seeds_dir: Path) -> None:
    lines = [
        json.dumps(
            {
                "id": r.key,
                "text": r.text,
                "source": r.source,
                "published_at": r.published_at.isoformat() if r.published_at else None,
            }
        )
        for r in seed_records(seeds_dir)
    ]
    lines += [
        "not json",
        json.dumps({"text": "no id"}),
        json.dumps({"id": "x", "published_at": "yesterday", "text": "t"}),
    ]
    code = (
        "from pipeline.cli import dedup as cli_dedup; import typer; a = typer.Typer(); e = typer.Typer(); "
        "a.add_typer(e, name='eval'); cli_dedup.register(a, e); a()"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "dedup"],
        input="\n".join(lines),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    out = {row["id"]: row for row in map(json.loads, run.stdout.splitlines())}
    assert set(out) == {"000", "001", "002", "003", "004"}
    assert out["001"]["canonical_id"] == "000" and out["001"]["relation"] == "copy"
    assert out["000"]["cluster_id"] == out["001"]["cluster_id"] != out["002"]["cluster_id"]
    assert "skip:bad_json" in run.stderr and "skip:no_id" in run.stderr and "skip:bad_date" in run.stderr


def test_eval_gate_on_syndication_dev(shared_corpus: Path) -> None:
    path = shared_corpus / "syndication-dev" / "articles.jsonl"
    if not path.is_file():
        pytest.skip(f"syndication-dev is absent ({path})")
    gold = read_jsonl(path)
    records = [
        Record(
            key=r["id"],
            text=r["text"],
            source=r.get("source", ""),
            url=r.get("url", ""),
            published_at=datetime.fromisoformat(r["published_at"].replace("Z", "+00:00")),
        )
        for r in gold
    ]
    ours = score(gold, dedup_records(records))
    baseline = score(gold, minhash_baseline(records))
    assert ours.f1 >= DEV_GATE["f1"] and ours.precision >= DEV_GATE["precision"]
    assert ours.recall >= DEV_GATE["recall"] and ours.canon >= DEV_GATE["canon"]
    assert ours.f1 > baseline.f1 + 0.2  # containment beats MinHash-Jaccard by a wide margin here


def test_eval_command_reads_the_data_folder(shared_corpus: Path, tmp_path: Path) -> None:
    if not (shared_corpus / "syndication-dev").is_dir():
        pytest.skip("syndication-dev is absent")
    code = (
        "from pipeline.cli import dedup as cli_dedup; import typer; a = typer.Typer(); e = typer.Typer(); "
        "a.add_typer(e, name='eval'); cli_dedup.register(a, e); a()"
    )
    env = {**os.environ, "NEWSFLOW_EVAL_DATA": str(shared_corpus)}
    out = tmp_path / "scores.json"
    run = subprocess.run(
        [sys.executable, "-c", code, "eval", "dedup", "--dataset", "syndication-dev", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    scores = json.loads(out.read_text())
    assert len(scores) == 2 and all(0.0 <= s["f1"] <= 1.0 for s in scores.values())
    missing = subprocess.run(
        [sys.executable, "-c", code, "eval", "dedup", "--dataset", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    assert missing.returncode == 2


def test_words_of_every_script_are_whole_tokens() -> None:
    assert normalize_tokens("Die Präsidentin sagte") == ["die", "präsidentin", "sagte"]
    # Arabic diacritics, tatweel and letter variants fold; Arabic-Indic digits read as digits.
    assert normalize_tokens("قالَ الرئيسُ أحمد ١٢") == normalize_tokens("قال الرييس احمد 12")
    assert normalize_tokens("Москва, Россия") == ["москва", "россия"]
    assert normalize_tokens("বাংলা ভাষা") == ["বাংলা", "ভাষা"]  # vowel signs stay inside the word
    assert normalize_tokens("中文字") == ["中", "文", "字"]  # no spaces: character tokens
    # ASCII text gives exactly the tokens it gave before (stored fingerprints stay valid).
    assert normalize_tokens("The U.S.-led 1,500 é")[:-1] == normalize_tokens("The U.S.-led 1,500")


def _story(words: list[str], n: int) -> str:
    """n paragraphs of running text made of `words` (our own filler, deterministic)."""
    return "\n".join(" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(30)) + "." for i in range(n))


@pytest.mark.parametrize(
    "sentence",
    [
        "الحكومة أعلنت اليوم عن خطة جديدة لإعادة إعمار المدينة بعد الفيضانات التي ضربت المنطقة",
        "правительство объявило сегодня о новом плане восстановления города после наводнения в регионе",
        "Die Regierung kündigte heute einen neuen Plan für den Wiederaufbau der Stadt nach dem Hochwasser an",
    ],
)
def test_two_thirds_copy_in_other_scripts_is_linked(sentence: str) -> None:
    words = sentence.split()
    text = _story(words, 9)
    paras = text.splitlines()
    copy = "\n".join(paras[:6])
    other = _story(words[::-1] + ["x"], 9)  # the same vocabulary, other sentences
    t0 = datetime(2024, 1, 1, 8, tzinfo=UTC)
    out = {
        a.key: a
        for a in dedup_records([Record("o", text, t0), Record("c", copy, t0.replace(hour=11)), Record("u", other, t0)])
    }
    assert out["c"].canonical_id == "o" and out["c"].relation == "copy"
    assert out["u"].cluster_id != out["o"].cluster_id


def test_chinese_copy_is_linked_by_character_shingles() -> None:
    base = "政府今天宣布了一项新的城市重建计划该地区遭受洪水袭击后数千人无家可归官员表示工作将在下月开始"
    text = "\n".join(base[i:] + base[:i] + "。" for i in range(0, 40, 5))
    copy = "\n".join(text.splitlines()[:5])
    assert compare(prepare(Record("o", text)), prepare(Record("c", copy))).linked


def test_credit_lines_in_the_languages_of_the_feeds() -> None:
    assert "dpa.com" in credits("Berlin (dpa/lnw) - Die Polizei hat am Montag")
    assert "efe.com" in credits("Madrid, 3 ene (EFE).- El Gobierno")
    assert "afp.com" in credits("Paris (AFP) - Le gouvernement")
    assert "reuters.com" in credits("المصدر: رويترز")
    assert "xinhuanet.com" in credits("来源：新华社")
    assert "tass.ru" in credits("Источник: ТАСС")
    assert "djv" in credits("Der Verband fordert mehr Schutz.\nPM DJV")
    assert credits("Ein ruhiger Tag in der Hauptstadt.") == set()


def test_german_press_release_credited_by_a_magazine_is_the_original() -> None:
    day = datetime(2023, 5, 3, tzinfo=UTC)  # the press release is dated by day only
    body = "\n".join(
        f"Der Verband fordert in Absatz {i} einen besseren Schutz fuer freie Journalistinnen "
        "und Journalisten bei Demonstrationen in allen Bundeslaendern."
        for i in range(6)
    )
    release = prepare(Record("pm", body, day, "djv.de"))
    magazine = prepare(Record("mag", body + "\nPM DJV", day.replace(hour=9), "medienmagazin.example"))
    # The magazine's copy is the longer text, and without the credit line the tie goes to coverage.
    assert choose_original([magazine, release]).key == "pm"
    # A copy stamped hours *before* the release (time zones) still yields to the credited release.
    early = prepare(Record("mag", body + "\nPM DJV", day.replace(hour=0) - timedelta(hours=3), "medienmagazin.example"))
    assert choose_original([early, release]).key == "pm"


def test_lists_sharing_names_are_not_copies() -> None:
    names = [
        "Adele",
        "Dua Lipa",
        "Harry Styles",
        "Ed Sheeran",
        "Little Simz",
        "Stormzy",
        "Raye",
        "Central Cee",
        "Olivia Dean",
        "Jessie Ware",
        "Calvin Harris",
        "Arlo Parks",
    ]
    intro_a = "Here is the full list of nominees for this year's music awards, announced in London on Thursday."
    intro_b = "Organisers named the artists competing for the prizes at a ceremony in Manchester last night."
    a = intro_a + "\nBest artist:\n" + "\n".join(names) + "\nBest album:\n" + "\n".join(names[::2])
    b = intro_b + "\nBest song:\n" + "\n".join(names[1:]) + "\nBest group:\n" + "\n".join(names[::3])
    flat_a = intro_a + "\nNominees: " + ", ".join(names)
    flat_b = intro_b + "\nNominated: " + ", ".join(names[1:] + names[:1])
    assert not compare(prepare(Record("a", a)), prepare(Record("b", b))).linked
    assert not compare(prepare(Record("a", flat_a)), prepare(Record("b", flat_b))).linked
    # The same lists with a copied story around them are linked: the running text is shared.
    story = "\n".join(
        f"Paragraph {i}: the ceremony at the arena drew record crowds and a long night of "
        "speeches from artists, producers and organisers of the awards."
        for i in range(6)
    )
    assert compare(prepare(Record("a", story + "\n" + a)), prepare(Record("b", story + "\n" + b))).linked


def test_multilingual_gate(shared_corpus: Path) -> None:
    source = shared_corpus / ML_SOURCE
    if not (source / "evaldata.json").is_file():
        pytest.skip(f"the trafilatura evaluation pages are absent ({source})")
    gold = multilingual_set(source)
    languages = {r["language"] for r in gold if r["role"] == "copy"}
    assert {"de", "en", "es", "fr", "ar", "ru", "zh"} <= languages
    records = [
        Record(
            key=r["id"],
            text=r["text"],
            source=r["source"],
            published_at=datetime.fromisoformat(r["published_at"].replace("Z", "+00:00")),
        )
        for r in gold
    ]
    ours = score(gold, dedup_records(records))
    assert ours.f1 >= DEV_GATE["f1"] and ours.precision >= DEV_GATE["precision"]
    assert ours.recall >= 0.99 and ours.canon >= DEV_GATE["canon"]
