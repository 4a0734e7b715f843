"""Feed bytes to normalised entries: RSS, Atom, JSON Feed; sanitising; identity; bad input."""

import json

import pytest
from conftest import corpus_files, requires_corpus

from feeds.parse import FeedError, canonical_link, parse_feed, split_items

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Justice Network</title><language>es</language>
<item><guid>a-1</guid><title>Encuentro regional</title>
<link>https://example.org/encuentro?utm_source=x&amp;id=7#top</link>
<pubDate>Mon, 02 Mar 2026 09:00:00 +0000</pubDate>
<description><![CDATA[<p onclick="steal()">Fecha l&iacute;mite: 30 de abril</p><script>alert(1)</script>
<a href="javascript:alert(2)">mal</a> <a href="https://example.org/bases">bases</a>]]></description>
</item>
<item><title>Sin guid</title><link>https://example.org/sin-guid</link></item>
<item><guid>a-1</guid><title>Repeated guid</title></item>
<item><description>Only some text, no title or link</description></item>
<item><title></title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Fellowships</title>
<entry><id>tag:example.org,2026:1</id><title>Community paralegal fellowship</title>
<link href="https://example.org/fellowship"/><updated>2026-02-10T08:00:00Z</updated>
<author><name>Global Justice Commons</name></author>
<content type="html">&lt;p&gt;Apply by 15 April 2026.&lt;/p&gt;</content></entry>
</feed>"""


def test_rss_entries_are_normalised_and_sanitised():
    feed = parse_feed(RSS)
    assert feed.title == "Justice Network"
    assert feed.language == "es"
    first = feed.entries[0]
    assert first.key == "a-1"
    assert first.link == "https://example.org/encuentro?id=7"
    assert "script" not in first.summary_html and "onclick" not in first.summary_html
    assert "javascript:" not in first.summary_html
    assert 'href="https://example.org/bases"' in first.summary_html
    assert first.summary_text.startswith("Fecha límite: 30 de abril")
    assert "alert" not in first.summary_text
    assert first.published_at.isoformat() == "2026-03-02T09:00:00+00:00"
    assert first.language == "es"
    assert len(first.content_hash) == 64


def test_identity_falls_back_to_link_then_a_hash_and_repeats_are_dropped():
    feed = parse_feed(RSS)
    keys = [e.key for e in feed.entries]
    assert keys[1] == "https://example.org/sin-guid"
    assert len(keys) == len(set(keys)) == 3
    assert feed.entries[2].title == "Only some text, no title or link"
    assert feed.skipped == 2  # the repeated guid and the empty item
    assert any("repeated an id" in w for w in feed.warnings)


def test_atom():
    entry = parse_feed(ATOM).entries[0]
    assert entry.title == "Community paralegal fellowship"
    assert entry.author == "Global Justice Commons"
    assert entry.summary_text == "Apply by 15 April 2026."


def test_json_feed():
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Chamadas",
        "language": "pt-BR",
        "authors": [{"name": "Rede de Justiça"}],
        "items": [
            {
                "id": 1,
                "url": "https://example.org/c1",
                "title": "Chamada aberta",
                "content_html": "<p>Inscrições até 10 de maio</p>",
                "date_published": "2026-03-01T10:00:00-03:00",
            },
            {"id": "2", "content_text": "Prazo: 3 de junho", "url": "https://example.org/c2"},
            "not an item",
        ],
    }
    feed = parse_feed(json.dumps(document).encode())
    assert [e.key for e in feed.entries] == ["1", "2"]
    assert feed.entries[0].published_at.isoformat() == "2026-03-01T13:00:00+00:00"
    assert feed.entries[0].author == "Rede de Justiça"
    assert feed.entries[1].title == "Prazo: 3 de junho"
    assert feed.entries[0].language == "pt-BR"
    assert feed.skipped == 1


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"<html><body><h1>Welcome</h1></body></html>",
        b"{not json",
        b'{"version": 1}',
        b"\x00\x01",
    ],
)
def test_bytes_without_a_feed_raise_a_clear_error(content):
    with pytest.raises(FeedError, match="not a feed"):
        parse_feed(content)


def test_a_feed_with_recoverable_errors_keeps_its_entries_and_warns():
    broken = RSS.replace(
        b"</channel></rss>", b"<item><title>Unclosed &bogus; entity</title></item>"
    )
    feed = parse_feed(broken)
    assert feed.entries
    assert any("recoverable" in w for w in feed.warnings)


def test_a_truncated_feed_without_a_title_warns_instead_of_crashing():
    feed = parse_feed(b"<rss><channel><item><title>x</ti", headers={"Content-Type": "text/html"})
    assert feed.title is None
    assert any("recoverable" in w for w in feed.warnings)


def test_an_overlong_link_is_dropped_and_an_overlong_id_is_hashed():
    link = "https://example.org/" + "a" * 2100
    long_id = "urn:x:" + "b" * 600
    feed = parse_feed(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>'
        + f"<item><title>One</title><link>{link}</link><guid>{long_id}</guid></item>".encode()
        + f"<item><title>Two</title><link>{link}</link></item>".encode()
        + b"</channel></rss>"
    )
    first, second = feed.entries
    assert first.link is None and second.link is None
    assert first.key.startswith("sha256:") and len(first.key) <= 500
    assert first.key != second.key


def test_entity_declarations_are_ignored_so_a_billion_laughs_stays_small():
    levels = ['<!ENTITY a0 "ha">'] + [
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 12)
    ]
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{"".join(levels)}]><rss version="2.0"><channel>'
        "<title>t</title><item><title>&a11;</title><link>https://example.org/a</link></item>"
        "<item><title>Kept</title><link>https://example.org/b</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(bomb)
    assert [e.title for e in feed.entries] == ["&a11;", "Kept"]
    assert "ignored the entity declarations in the document's DOCTYPE" in feed.warnings


def test_a_doctype_without_entities_is_left_alone():
    rss091 = (
        b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel>'
        b"<title>t</title><item><title>A &amp; B</title><link>https://example.org/x</link></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(rss091)
    assert (feed.warnings, [e.title for e in feed.entries]) == ([], ["A & B"])


def test_declared_charset_from_the_headers():
    latin = '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>Fecha límite</title><link>https://example.org/a</link></item></channel></rss>'
    feed = parse_feed(
        latin.encode("latin-1"), headers={"Content-Type": "application/rss+xml; charset=iso-8859-1"}
    )
    assert feed.entries[0].title == "Fecha límite"


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://Example.ORG/a?utm_source=n&utm_medium=e&id=3", "https://example.org/a?id=3"),
        ("https://example.org/a?fbclid=1#frag", "https://example.org/a"),
        ("http://example.org", "http://example.org/"),
        ("javascript:alert(1)", None),
        ("mailto:x@example.org", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_link(link, expected):
    assert canonical_link(link) == expected


@requires_corpus
@pytest.mark.corpus
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.stem)
def test_every_real_feed_parses(path):
    feed = parse_feed(path.read_bytes())
    assert feed.entries
    assert len({e.key for e in feed.entries}) == len(feed.entries)


ITEM = b"<item><title>A</title><link>https://example.org/a</link></item>"
OTHER = b"<item>\n<title>B</title><link>https://example.org/b</link>\n</item >"


@pytest.mark.parametrize(
    ("document", "items"),
    [
        (
            b'<rss version="2.0"><channel><title>t</title>'
            + ITEM
            + b"\n  "
            + OTHER
            + b"</channel></rss>",
            [ITEM, OTHER],
        ),
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id></entry><entry xml:lang="es"><id>2</id></entry></feed>',
            [b"<entry><id>1</id></entry>", b'<entry xml:lang="es"><id>2</id></entry>'],
        ),
        (
            b'<rdf:RDF><channel><items><rdf:Seq/></items></channel><item rdf:about="x"><title>A</title></item></rdf:RDF>',
            [b'<item rdf:about="x"><title>A</title></item>'],
        ),
        (b"<rss><channel><title>none</title></channel></rss>", None),
        (b"<rss><channel>" + ITEM + b"<!-- an old one -->" + OTHER + b"</channel></rss>", None),
        (b"<rss><channel><item/>" + ITEM + b"</channel></rss>", None),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', None),
    ],
)
def test_split_items(document, items):
    split = split_items(document)
    if items is None:
        assert split is None
    else:
        assert split.items == items
        assert split.document(split.items).replace(b"\n  ", b"") == document.replace(b"\n  ", b"")


@requires_corpus
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.stem)
def test_an_item_parsed_alone_in_its_documents_frame_reads_as_in_the_whole(path):
    content = path.read_bytes()
    split = split_items(content)
    assert split is not None
    whole = {
        entry.key: entry
        for entry in parse_feed(content, base_url="https://example.org/f.xml").entries
    }
    alone = [
        entry
        for item in split.items
        for entry in parse_feed(
            split.document([item]), base_url="https://example.org/f.xml"
        ).entries
    ]
    assert {entry.key: entry for entry in alone} == whole
