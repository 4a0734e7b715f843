"""Placeholder extractor: finds nothing yet. The deadline extractor (issue 4) replaces it.

Kept so that ingestion and demo data work end to end before extraction lands; it returns an
empty `Extraction`, which the pages show as "deadline not stated — check the listing".
"""

from __future__ import annotations

from datetime import datetime

from .types import Extraction


def extract(
    title: str,
    text: str,
    *,
    published: datetime | None = None,
    language: str | None = None,
    link: str | None = None,
) -> Extraction:
    """Return what the listing states; for now, nothing."""
    return Extraction(language=(language or "").split("-")[0].lower() or None)
