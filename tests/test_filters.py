"""Reading filters from query parameters: one parser for every surface, forgiving with a note."""

import pytest
from werkzeug.datastructures import MultiDict

from directory.filters import MAX_QUERY_LENGTH, MAX_VALUES, Filters, parse_filters, query_args
from directory.fulltext import search_words


def parse(pairs):
    return parse_filters(MultiDict(pairs))


def test_no_parameters_is_the_default_list():
    parsed = parse([])
    assert parsed.filters == Filters()
    assert parsed.filters.is_default
    assert parsed.cursor is None and parsed.problems == ()


def test_every_parameter_is_read():
    parsed = parse(
        [
            ("q", "  travel grant  "),
            ("kind", "fellowship"),
            ("kind", "GRANT"),
            ("country", "ke"),
            ("region", "latin-america-caribbean"),
            ("closing", "30"),
            ("status", "rolling"),
            ("funding", "travel"),
            ("online", "no"),
            ("lang", "ES"),
            ("source", "3"),
            ("sort", "relevance"),
            ("cursor", "abc"),
        ]
    )
    assert parsed.problems == ()
    assert parsed.filters == Filters(
        q="travel grant",
        kinds=("fellowship", "grant"),
        countries=("KE",),
        regions=("latin-america-caribbean",),
        closing_days=30,
        status="rolling",
        funding=("travel",),
        online=False,
        languages=("es",),
        sources=(3,),
        sort="relevance",
    )
    assert parsed.cursor == "abc"


def test_empty_values_from_a_form_are_any_and_say_nothing():
    parsed = parse([("q", ""), ("country", ""), ("closing", ""), ("online", ""), ("source", "")])
    assert parsed.filters == Filters()
    assert parsed.problems == ()


def test_query_args_round_trip():
    filters = Filters(q="x y", kinds=("grant",), closing_days=7, online=True, sources=(2,))
    assert parse(query_args(filters)).filters == filters
    assert query_args(Filters()) == []


BAD_INPUT = [
    ([("kind", "spaceship")], "kind", "not a known value of “kind”"),
    ([("country", "ZZ")], "country", "not a known value of “country”"),
    ([("country", "Kenya")], "country", "not a known value of “country”"),
    ([("region", "atlantis")], "region", "not a known value of “region”"),
    ([("closing", "soon")], "closing", "number of days"),
    ([("closing", "-3")], "closing", "number of days"),
    ([("closing", "0")], "closing", "number of days"),
    ([("closing", "99999999999999999999")], "closing", "number of days"),
    ([("closing", "٣")], "closing", "number of days"),
    ([("status", "maybe")], "status", "not a known value of “status”"),
    ([("funding", "lunch")], "funding", "not a known value of “funding”"),
    ([("online", "perhaps")], "online", "yes or no"),
    ([("lang", "english")], "lang", "language code"),
    ([("source", "one")], "source", "source number"),
    ([("source", "0")], "source", "source number"),
    ([("source", "99999999999")], "source", "source number"),
    ([("sort", "random")], "sort", "not a known value of “sort”"),
    ([("sort", "relevance")], "sort", "needs a search"),
    ([("status", "past"), ("closing", "7")], "closing", "past"),
    ([("q", "the of and")], "q", "no words"),
    ([("q", "!!! ??? ---")], "q", "no words"),
    ([("q", "a"), ("q", "b")], "q", "2 times"),
    ([("status", "open"), ("status", "past")], "status", "2 times"),
    ([("utm_source", "x")], "utm_source", "Unknown parameter"),
    ([("kind[]", "grant")], "kind[]", "Unknown parameter"),
    ([("q", "x" * (MAX_QUERY_LENGTH + 50))], "q", "cut to"),
    ([("kind", "grant")] * (MAX_VALUES + 5), "kind", f"first {MAX_VALUES}"),
]


@pytest.mark.parametrize(("pairs", "parameter", "message"), BAD_INPUT)
def test_bad_input_is_ignored_with_a_note_naming_the_parameter(pairs, parameter, message):
    parsed = parse(pairs)
    assert any(p.parameter == parameter and message in p.message for p in parsed.problems), (
        parsed.problems
    )


def test_what_is_valid_is_kept_beside_what_is_not():
    parsed = parse([("kind", "grant"), ("kind", "spaceship"), ("closing", "x"), ("online", "yes")])
    assert parsed.filters.kinds == ("grant",)
    assert parsed.filters.online is True
    assert parsed.filters.closing_days is None
    assert len(parsed.problems) == 2


def test_repeated_values_count_once():
    assert parse([("kind", "grant"), ("kind", "grant")]).filters.kinds == ("grant",)


def test_control_characters_never_reach_the_filters_or_the_notes():
    parsed = parse([("q", "visa\x00 grant\x1b"), ("kind", "x\x00y")])
    assert parsed.filters.q == "visa grant"
    assert all("\x00" not in p.message for p in parsed.problems)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("travel grant justice", ("travel", "grant", "justice")),
        ('"travel grant" OR justice*', ("travel", "grant", "justice")),
        ("Justice; DROP TABLE opportunities;--", ("justice", "drop", "table", "opportunities")),
        ("grants for the lawyers", ("grants", "lawyers")),
        ("NEAR(a b) AND NOT c", ("near", "b", "c")),
        ("convocatória São Paulo", ("convocatória", "são", "paulo")),
        ("grant grant GRANT", ("grant",)),
    ],
)
def test_search_is_only_ever_words(query, words):
    assert search_words(query) == words
