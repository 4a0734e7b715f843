"""Measure the extractor on the hand-labelled corpus: recall, precision of `certain`, speed.

Run from the repository root: `.venv/bin/python bench/extraction.py [--misses] [--json]`.
Figures are computed as ../shared/corpus/README.md defines them (entries matched to labels by
feed order, as the corpus scorer does); speed is extract() alone, in one process on one
core: the first pass (which includes dateparser loading its languages) and a warm pass.
Exits 0 with a message when the corpus is not there.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))

from feeds.extract import extract  # noqa: E402
from feeds.parse import parse_feed  # noqa: E402


@dataclass(frozen=True)
class Item:
    """One feed entry as the extractor sees it, with its place in the feed."""

    feed: str
    index: int
    key: str
    link: str | None
    title: str
    text: str
    published: datetime | None
    language: str | None


def load_items(path: Path) -> list[Item]:
    """The entries of one feed file, in feed order, as feeds.parse reads them."""
    parsed = parse_feed(path.read_bytes())
    return [
        Item(
            path.stem,
            i,
            e.key,
            e.link,
            e.title,
            e.summary_html or e.summary_text,
            e.published_at,
            e.language or parsed.language,
        )
        for i, e in enumerate(parsed.entries)
    ]


@dataclass(frozen=True)
class Pair:
    """A labelled record and the feed entry it describes (None when the entry is missing)."""

    record: dict
    item: Item | None


def pair_up(records: list[dict], items: list[Item]) -> list[Pair]:
    """Labels to entries by feed order when the counts agree, else by link or title (as the
    corpus scorer does)."""
    records = sorted(records, key=lambda r: r["item_index"])
    if len(records) == len(items):
        return [Pair(r, i) for r, i in zip(records, items, strict=True)]
    by_key = {_norm(i.link): i for i in items if i.link} | {_norm(i.key): i for i in items}
    by_title = {_norm(i.title): i for i in items}
    return [
        Pair(r, by_key.get(_norm(r.get("guid_or_link"))) or by_title.get(_norm(r["title"])))
        for r in records
    ]


def _norm(value: str | None) -> str:
    return " ".join((value or "").split()).lower()


def measure(labels_path: Path = CORPUS / "labels-dev.json") -> dict:
    """Recall, precision of `certain`, per feed and language, speed and misses on the corpus."""
    labels = json.loads(labels_path.read_text())
    by_feed: dict[str, list[dict]] = collections.defaultdict(list)
    for record in labels:
        by_feed[record["feed"]].append(record)
    items = {feed: load_items(labels_path.parent / "raw" / f"{feed}.xml") for feed in by_feed}
    everything = [item for feed_items in items.values() for item in feed_items]

    started = time.process_time()
    results = {
        id(i): extract(i.title, i.text, published=i.published, language=i.language)
        for i in everything
    }
    cold = time.process_time() - started
    spent: dict[str, float] = collections.defaultdict(float)
    started = time.process_time()
    for i in everything:
        began = time.process_time()
        result = extract(i.title, i.text, published=i.published, language=i.language)
        spent[result.language or "unknown"] += time.process_time() - began
    warm = time.process_time() - started

    totals: collections.Counter = collections.Counter()
    per_feed: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    per_language: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    misses: list[str] = []
    for feed, records in by_feed.items():
        for pair in pair_up(records, items[feed]):
            record, item = pair.record, pair.item
            result = results[id(item)] if item else None
            language = (result.language if result else None) or "unknown"
            found = result.deadlines if result else ()
            dates = {d.on.isoformat() for d in found}
            certain = {d.on.isoformat() for d in found if d.confidence == "certain"}
            counters = (totals, per_feed[feed], per_language[language])
            want = record["deadline"]
            where = f"{feed}#{record['item_index']}"
            for counter in counters:
                counter["items"] += 1
            if want:
                for counter in counters:
                    counter["labelled"] += 1
                if want in dates:
                    for counter in counters:
                        counter["hit"] += 1
                else:
                    misses.append(
                        f"MISS  {where} want {want} got {sorted(dates)} :: {record.get('evidence')}"
                    )
            if certain:
                for counter in counters:
                    counter["certain"] += 1
                if want and want in certain:
                    for counter in counters:
                        counter["certain_ok"] += 1
                else:
                    wrong = [f"{d.on} «{d.evidence}»" for d in found if d.confidence == "certain"]
                    misses.append(f"WRONG {where} want {want} certain {wrong}")

    def figures(c: collections.Counter) -> dict:
        return {
            "items": c["items"],
            "labelled": c["labelled"],
            "hit": c["hit"],
            "recall": round(_ratio(c["hit"], c["labelled"]), 3),
            "certain": c["certain"],
            "certain_ok": c["certain_ok"],
            "precision_certain": round(_ratio(c["certain_ok"], c["certain"]), 3),
        }

    count = len(everything)
    return {
        **figures(totals),
        "entries": count,
        "entries_per_second_first_pass": round(count / cold) if cold else None,
        "entries_per_second_warm": round(count / warm) if warm else None,
        "per_feed": {feed: figures(c) for feed, c in per_feed.items()},
        "per_language": {
            lang: {
                **figures(c),
                "entries_per_second_warm": round(c["items"] / spent[lang]) if spent[lang] else None,
            }
            for lang, c in sorted(per_language.items())
        },
        "misses": misses,
    }


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every miss and wrong date")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--labels", default=str(CORPUS / "labels-dev.json"))
    args = parser.parse_args(argv)
    labels_path = Path(args.labels)
    if not labels_path.exists():
        print(f"corpus not found at {labels_path.parent}: nothing to measure")
        return 0
    summary = measure(labels_path)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{'feed':40} {'items':>5} {'dl':>4} {'hit':>4} {'cert':>5} {'ok':>4}")
    for feed, c in summary["per_feed"].items():
        print(
            f"{feed:40} {c['items']:5} {c['labelled']:4} {c['hit']:4} {c['certain']:5} "
            f"{c['certain_ok']:4}"
        )
    print()
    for lang, c in summary["per_language"].items():
        recall = f"{c['recall']:.3f}" if c["labelled"] else "n/a"
        precision = f"{c['precision_certain']:.3f}" if c["certain"] else "n/a"
        print(
            f"language {lang:8} items={c['items']:4} recall={recall} "
            f"({c['hit']}/{c['labelled']}) precision_certain={precision} "
            f"({c['certain_ok']}/{c['certain']}) entries/s warm="
            f"{c['entries_per_second_warm']}"
        )
    if args.misses and summary["misses"]:
        print()
        print("\n".join(summary["misses"]))
    print()
    print(
        f"recall={summary['recall']:.3f} ({summary['hit']}/{summary['labelled']}) "
        f"precision_certain={summary['precision_certain']:.3f} "
        f"({summary['certain_ok']}/{summary['certain']}) entries={summary['entries']} "
        f"entries/s first pass={summary['entries_per_second_first_pass']} "
        f"warm={summary['entries_per_second_warm']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
