"""Measure the extractor on the hand-labelled corpus: recall, precision of `certain`, speed.

Run from the repository root: `.venv/bin/python bench/extraction.py [--misses] [--json]`.
Figures are computed as ../shared/corpus/README.md defines them (entries matched to labels by
feed order); speed is extract() alone, one process, one core, first pass and warm pass.
Exits 0 with a message when the corpus is not there.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from calendar import timegm
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT))

from feeds.extract import extract  # noqa: E402


@dataclass(frozen=True)
class Item:
    """One feed entry as the extractor sees it, with its place in the feed."""

    feed: str
    index: int
    title: str
    text: str
    published: datetime | None
    language: str | None


def load_items(path: Path) -> list[Item]:
    """The entries of one feed file, in feed order."""
    content = path.read_bytes()
    try:
        from feeds.parse import parse_feed
    except ImportError:
        return _load_with_feedparser(path.stem, content)
    parsed = parse_feed(content)
    return [
        Item(path.stem, i, e.title, e.summary_html or e.summary_text, e.published_at,
             e.language or getattr(parsed, "language", None))
        for i, e in enumerate(parsed.entries)
    ]


def _load_with_feedparser(feed: str, content: bytes) -> list[Item]:
    import feedparser

    parsed = feedparser.parse(content)
    items = []
    for i, entry in enumerate(parsed.entries):
        body = entry.get("content", [{}])[0].get("value") if entry.get("content") else None
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = datetime.fromtimestamp(timegm(stamp), UTC) if stamp else None
        items.append(Item(feed, i, entry.get("title", ""), body or entry.get("summary", ""),
                          published, parsed.feed.get("language")))
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--misses", action="store_true", help="list every miss and wrong date")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--labels", default=str(CORPUS / "labels-dev.json"))
    args = parser.parse_args(argv)
    labels_path = Path(args.labels)
    if not labels_path.exists():
        print(f"corpus not found at {labels_path.parent}: nothing to measure")
        return 0
    labels = json.loads(labels_path.read_text())
    by_feed: dict[str, list[dict]] = collections.defaultdict(list)
    for record in labels:
        by_feed[record["feed"]].append(record)

    items: dict[str, list[Item]] = {
        feed: load_items(labels_path.parent / "raw" / f"{feed}.xml") for feed in by_feed
    }
    everything = [item for feed_items in items.values() for item in feed_items]
    started = time.process_time()
    results = {(i.feed, i.index): extract(i.title, i.text, published=i.published,
                                          language=i.language) for i in everything}
    cold = time.process_time() - started
    started = time.process_time()
    for i in everything:
        extract(i.title, i.text, published=i.published, language=i.language)
    warm = time.process_time() - started

    totals = collections.Counter()
    per_feed: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    per_language: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    per_language_time: dict[str, list[int]] = collections.defaultdict(list)
    misses: list[str] = []
    for feed, records in by_feed.items():
        feed_items = items[feed]
        for record in sorted(records, key=lambda r: r["item_index"]):
            if record["item_index"] >= len(feed_items):
                continue
            item = feed_items[record["item_index"]]
            result = results[(feed, item.index)]
            language = result.language or "unknown"
            dates = {d.on.isoformat() for d in result.deadlines}
            certain = {d.on.isoformat() for d in result.deadlines if d.confidence == "certain"}
            counters = (totals, per_feed[feed], per_language[language])
            want = record["deadline"]
            for counter in counters:
                counter["items"] += 1
            if want:
                for counter in counters:
                    counter["labelled"] += 1
                if want in dates:
                    for counter in counters:
                        counter["hit"] += 1
                else:
                    misses.append(f"MISS  {feed}#{item.index} want {want} got {sorted(dates)}"
                                  f" :: {record.get('evidence')}")
            if certain:
                for counter in counters:
                    counter["certain"] += 1
                if want and want in certain:
                    for counter in counters:
                        counter["certain_ok"] += 1
                else:
                    wrong = [f"{d.on} «{d.evidence}»" for d in result.deadlines
                             if d.confidence == "certain"]
                    misses.append(f"WRONG {feed}#{item.index} want {want} certain {wrong}")
            per_language_time[language].append(1)

    def ratio(a: int, b: int) -> float:
        return a / b if b else 0.0

    count = len(everything)
    summary = {
        "items": count,
        "recall": round(ratio(totals["hit"], totals["labelled"]), 3),
        "hit": totals["hit"], "labelled": totals["labelled"],
        "precision_certain": round(ratio(totals["certain_ok"], totals["certain"]), 3),
        "certain_ok": totals["certain_ok"], "certain": totals["certain"],
        "entries_per_second_first_pass": round(count / cold) if cold else None,
        "entries_per_second_warm": round(count / warm) if warm else None,
        "per_language": {
            lang: {"items": c["items"], "recall": round(ratio(c["hit"], c["labelled"]), 3),
                   "labelled": c["labelled"],
                   "precision_certain": round(ratio(c["certain_ok"], c["certain"]), 3),
                   "certain": c["certain"]}
            for lang, c in sorted(per_language.items())
        },
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"{'feed':42} {'items':>5} {'dl':>4} {'hit':>4} {'cert':>5} {'ok':>4}")
    for feed, c in per_feed.items():
        print(f"{feed:42} {c['items']:5} {c['labelled']:4} {c['hit']:4} {c['certain']:5} "
              f"{c['certain_ok']:4}")
    print()
    for lang, figures in summary["per_language"].items():
        print(f"language {lang:8} items={figures['items']:4} recall={figures['recall']:.3f} "
              f"({figures['labelled']} labelled) precision_certain="
              f"{figures['precision_certain']:.3f} ({figures['certain']} certain)")
    if args.misses:
        print()
        print("\n".join(misses))
    print()
    print(f"recall={summary['recall']:.3f} ({totals['hit']}/{totals['labelled']}) "
          f"precision_certain={summary['precision_certain']:.3f} "
          f"({totals['certain_ok']}/{totals['certain']}) items={count} "
          f"entries/s first pass={summary['entries_per_second_first_pass']} "
          f"warm={summary['entries_per_second_warm']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
