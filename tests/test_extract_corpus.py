"""A regression guard on the hand-labelled corpus: recall and precision must not fall.

The floors sit a little under what the extractor reaches today (recall 1.000, precision of
`certain` 1.000 on 130 labelled deadlines), so one new miss is allowed but a drift is not.
No timing is asserted here; bench/extraction.py measures speed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT.parent / "shared" / "corpus" / "labels-dev.json"

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not LABELS.exists(), reason="../shared/corpus is not here"),
]


@pytest.fixture(scope="module")
def figures() -> dict:
    """The bench's figures on the development labels, measured once for this module."""
    spec = importlib.util.spec_from_file_location(
        "bench_extraction", ROOT / "bench" / "extraction.py"
    )
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    try:
        spec.loader.exec_module(bench)
        return bench.measure(LABELS)
    finally:
        del sys.modules[spec.name]


def test_recall_does_not_fall(figures: dict) -> None:
    assert figures["labelled"] >= 100
    assert figures["recall"] >= 0.99, "\n".join(figures["misses"])


def test_precision_of_certain_does_not_fall(figures: dict) -> None:
    assert figures["certain"] >= 100
    assert figures["precision_certain"] >= 0.99, "\n".join(figures["misses"])


def test_every_labelled_language_keeps_its_recall(figures: dict) -> None:
    for language, counts in figures["per_language"].items():
        if counts["labelled"] >= 5:
            assert counts["recall"] >= 0.95, language
