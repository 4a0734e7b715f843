"""The real published feeds of ../shared/corpus/raw, served over HTTP and ingested whole."""

import hashlib
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from conftest import corpus_files, requires_corpus
from werkzeug import Request, Response

from directory.extensions import db
from directory.models import Opportunity, Source, SourceEntry
from feeds.parse import parse_feed
from feeds.poll import poll_sources

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.corpus
@requires_corpus
def test_every_real_feed_is_stored_once_and_a_second_poll_is_all_304(app, httpserver, fetcher):
    files = {path.name: path.read_bytes() for path in corpus_files()}
    assert files, "../shared/corpus/raw holds no feeds"

    def serve(request: Request) -> Response:
        body = files[request.path.rsplit("/", 1)[-1]]
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type="application/rss+xml", headers={"ETag": etag})

    httpserver.expect_request(re.compile(r"^/corpus/[\w.-]+\.xml$")).respond_with_handler(serve)
    sources = [
        Source(name=name.removesuffix(".xml"), url=httpserver.url_for(f"/corpus/{name}"))
        for name in files
    ]
    db.session.add_all(sources)
    db.session.commit()
    expected = {
        s.id: len(parse_feed(files[s.name + ".xml"], base_url=s.url).entries) for s in sources
    }

    first = poll_sources(db.session, sources, NOW, fetcher=fetcher, workers=4)

    assert {r.source_id: r.outcome for r in first} == dict.fromkeys(expected, "fetched")
    assert [s.name for s in sources if s.last_error] == []
    stored = Counter(db.session.scalars(db.select(SourceEntry.source_id)))
    assert stored == Counter(expected)
    opportunities = db.session.scalar(db.select(db.func.count()).select_from(Opportunity))
    merged = sum(r.stored.merged for r in first)
    assert opportunities == sum(expected.values()) - merged
    assert sum(r.stored.new for r in first) == opportunities

    second = poll_sources(db.session, sources, NOW + timedelta(hours=2), fetcher=fetcher, workers=4)

    assert {r.outcome for r in second} == {"not_modified"}
    assert Counter(db.session.scalars(db.select(SourceEntry.source_id))) == stored
    assert db.session.scalar(db.select(db.func.count()).select_from(Opportunity)) == opportunities
    assert all(s.last_succeeded_at == NOW + timedelta(hours=2) for s in sources)
