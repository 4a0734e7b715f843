"""Full-text search behind one function: SQLite FTS5 (bm25) or PostgreSQL tsvector (ts_rank).

Both index an opportunity's title, organiser, place and summary with English stemming
("grants" finds "grant", "Justice" finds "justice"). What a member types is only ever words:
quotes, operators and SQL are split into plain words and passed as bound parameters, every
word required. The search objects live outside the models' metadata (a virtual table and
triggers on SQLite, a generated column and a GIN index on PostgreSQL); the migration creates
them and `is_search_object` tells Alembic to leave them alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Float,
    Integer,
    Subquery,
    any_,
    bindparam,
    column,
    select,
    text,
)

MAX_WORDS = 12

SQLITE_TABLE = "opportunity_search"
"""The FTS5 virtual table (external content: the `opportunities` table) and its shadow tables."""
SQLITE_OBJECTS = frozenset(
    {SQLITE_TABLE}
    | {f"{SQLITE_TABLE}_{suffix}" for suffix in ("data", "idx", "content", "docsize", "config")}
)
POSTGRESQL_COLUMN = "search_vector"
POSTGRESQL_INDEX = "ix_opportunities_search_vector"

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)
"""English words too common to search for; PostgreSQL's `english` configuration drops them too."""

_WORD = re.compile(r"\w+", re.UNICODE)


def search_words(q: str) -> tuple[str, ...]:
    """The words of a search, lower-cased, without stop words or repeats, at most MAX_WORDS."""
    words: list[str] = []
    for match in _WORD.finditer(q.lower()):
        word = match.group().strip("_")
        if word and word not in STOP_WORDS and word not in words and len(word) <= 50:
            words.append(word)
    return tuple(words[:MAX_WORDS])


def search_hits(words: Sequence[str], dialect: str, *, ranked: bool = True) -> Subquery:
    """The opportunities matching every word: `opportunity_id`, and `rank` (lower is better)
    when `ranked` (ranking costs a read of every match's text, so filters leave it out)."""
    if not words:
        raise ValueError("search_hits needs at least one word")
    if dialect == "postgresql":
        rank = "-CAST(ts_rank(search_vector, query) AS double precision)" if ranked else "0.0"
        statement = text(
            f"SELECT id AS opportunity_id, {rank} AS rank "
            "FROM opportunities, plainto_tsquery('english', :search_text) AS query "
            "WHERE search_vector @@ query"
        ).bindparams(search_text=" ".join(words))
    elif dialect == "sqlite":
        rank = "bm25(opportunity_search, 5.0, 2.0, 1.0, 1.0)" if ranked else "0.0"
        statement = text(
            f"SELECT rowid AS opportunity_id, {rank} AS rank "
            "FROM opportunity_search WHERE opportunity_search MATCH :search_text"
        ).bindparams(search_text=" ".join(f'"{w}"' for w in words))
    else:
        raise ValueError(f"full-text search is not available on {dialect}")
    typed = statement.columns(column("opportunity_id", Integer), column("rank", Float))
    return typed.subquery("search_hits")


def in_known_hits(key, ids: list[int], dialect: str) -> ColumnElement[bool]:
    """`key` is among search hits already found (their ids), without running the search again.

    Counting every facet of a search would otherwise repeat it in each count, which costs
    most when a common word matches thousands of listings.
    """
    if dialect == "postgresql":
        return key == any_(bindparam("hit_ids", ids, type_=ARRAY(Integer), unique=True))
    listed = text("SELECT CAST(value AS INTEGER) AS opportunity_id FROM json_each(:hit_ids)")
    listed = listed.bindparams(bindparam("hit_ids", json.dumps(ids), unique=True))
    return key.in_(
        select(listed.columns(column("opportunity_id", Integer)).subquery().c.opportunity_id)
    )


def is_search_object(name: str | None, type_: str, parent_name: str | None = None) -> bool:
    """True for the search's own tables, column and index, which Alembic must not compare or drop."""
    if type_ == "table":
        return name in SQLITE_OBJECTS
    if type_ == "column":
        return name == POSTGRESQL_COLUMN
    if type_ == "index":
        return name == POSTGRESQL_INDEX
    return False
