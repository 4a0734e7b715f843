"""Security: response headers, CSRF on every state change, XSS through every field and feed.

The XSS corpus goes through every text field of the partner form (and on through
confirmation, the queue, approval and the public pages, and every email), through a
moderator's rejection reason, and through feed content (`parse_feed` + `store_entries`).
A page or an HTML email passes when parsing it finds no script, no event handler, no
dangerous URL scheme, no element that loads or frames anything, and no payload verbatim.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from xml.sax.saxutils import escape as xml_escape

import pytest
import time_machine
from conftest import csrf_token, sign_in
from sqlalchemy import inspect, select
from test_submissions import form_data

from directory.extensions import db
from directory.models import Opportunity, Source, Submission
from feeds.ingest import store_entries
from feeds.parse import parse_feed

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

PAYLOADS = [
    "<script>alert(1)</script>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="&#97;lert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "' autofocus onfocus='alert(1)",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">click</a>',
    '<a href=" javascript:alert(1)">click</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    "<body onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>@import 'javascript:alert(1)';</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    '<embed src="javascript:alert(1)">',
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="//evil.example.com/">',
    "<link rel=stylesheet href=//evil.example.com/x.css>",
    "<form action=//evil.example.com><button>go</button></form>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<xss id=x tabindex=1 onfocusin=alert(1)></xss>",
    "{{ 7*191 }}{{ config.SECRET_KEY }}",
    "%3Cscript%3Ealert(1)%3C/script%3E",
]

DANGEROUS_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
    "style", "base", "img", "video", "audio", "source", "details", "input", "xss", "noscript",
    "textarea", "title", "body", "meta",
}  # fmt: skip
"""Tags none of our pages or emails uses outside the places `allowed_tag` lists."""

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "poster", "content"}


class Inspector(HTMLParser):
    """Collects what a browser would act on: tags, event handlers, URLs, inline styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.append((tag, values))
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            if name in URL_ATTRIBUTES:
                scheme = re.sub(r"[\x00-\x20]", "", value).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:")):
                    self.problems.append(f"{name}={value!r} on <{tag}>")


PLAIN_OPTION = re.compile(r'<option (?:selected )?value="[^"<>]*">[^<>]*</option>')
"""An option of the fixed zone and country lists, markup-free: nothing to inspect in it."""


def inspect_html(html: str, *, allowed: set[str], allow_style: bool = False) -> list[str]:
    """What in `html` could run or load something it should not."""
    parser = Inspector()
    parser.feed(PLAIN_OPTION.sub("", html))
    problems = list(parser.problems)
    for tag, attrs in parser.tags:
        if tag in DANGEROUS_TAGS and tag not in allowed:
            problems.append(f"<{tag}> element")
        if "style" in attrs and not allow_style:
            problems.append(f"inline style on <{tag}>")
        if tag == "form" and not attrs.get("action", "/").startswith("/"):
            problems.append(f"form posting to {attrs['action']}")
        if tag == "link" and not _known_link(attrs):
            problems.append(f"<link href={attrs.get('href')!r}>")
    return problems


def _known_link(attrs: dict) -> bool:
    """The stylesheet, or the list's own Atom feed announced to feed readers."""
    if attrs.get("href") == "/static/site.css":
        return True
    return attrs.get("rel") == "alternate" and attrs.get("href", "").startswith(
        "/opportunities.atom"
    )


PAGE_TAGS = {"title", "meta", "input", "textarea", "body", "details"}
"""`details` folds the list's filters; a handler on it (`ontoggle=`) is still caught."""
EMAIL_TAGS = {"title", "meta", "body"}


def assert_page_is_inert(html: str, payload: str, where: str) -> None:
    problems = inspect_html(html, allowed=PAGE_TAGS)
    assert not problems, f"{where}: {problems}"
    assert_not_verbatim(html, payload, where)
    assert html.count("<title>") == 1 and html.count("<body>") == 1, where
    for tag in re.findall(r"<(textarea|meta|input)\b[^>]*>", html):
        assert tag in ("textarea", "meta", "input")
    assert "1337" not in html and "test-secret-key" not in html, where


def assert_email_is_inert(html: str, payload: str, where: str) -> None:
    problems = inspect_html(html, allowed=EMAIL_TAGS, allow_style=True)
    assert not problems, f"{where}: {problems}"
    assert_not_verbatim(html, payload, where)
    assert "1337" not in html and "test-secret-key" not in html, where


def assert_not_verbatim(html: str, payload: str, where: str) -> None:
    """A payload with markup must not appear as is (quotes alone are harmless in text)."""
    if "<" in payload:
        assert payload not in html, f"{where}: the payload appears unescaped"


def emails(smtp_server) -> list[tuple[str, str]]:
    return [
        (m.message["Subject"], m.message.get_body(("html",)).get_content())
        for m in smtp_server.messages
    ]


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


def test_the_corpus_is_large_enough():
    assert len(PAYLOADS) >= 30 and len(set(PAYLOADS)) == len(PAYLOADS)
    assert not any("\n" in p for p in PAYLOADS)


# --- response headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/submit", "/submit/sent", "/admin/login", "/no-such-page", "/healthz"]
)
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    policy = dict(
        part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'" and policy["form-action"] == "'self'"
    assert "unsafe" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_no_page_has_inline_script_or_style(admin_client, create_opportunity, smtp_server):
    opportunity = create_opportunity(deadlines=[("application", (NOW + timedelta(days=9)).date())])
    admin_client.post("/submit", data=form_data(admin_client, feed_url="https://example.org/f"))
    submission = db.session.scalar(select(Submission))
    body = smtp_server.wait_for(1)[0].message.get_body(("plain",)).get_content()
    confirm = re.search(r"http://openings\.example\.org(/submit/confirm/\S+)", body).group(1)
    admin_client.post(confirm, data={"csrf_token": csrf_token(admin_client, confirm)})
    pages = [
        "/", f"/opportunities/{opportunity.id}", "/submit", "/submit/sent", confirm, "/admin/",
        f"/admin/submissions/{submission.id}", f"/admin/submissions/{submission.id}/edit",
        "/admin/opportunities", f"/admin/opportunities/{opportunity.id}", "/admin/feeds",
        "/admin/sources", "/admin/mail", "/no-such-page", "/subscribe", "/subscribe/sent",
    ]  # fmt: skip
    for path in pages:
        html = admin_client.get(path).get_data(as_text=True)
        assert "<script" not in html and "<style" not in html, path
        assert not re.search(r"\sstyle=", html), path
        assert not inspect_html(html, allowed=PAGE_TAGS), path


# --- CSRF ---------------------------------------------------------------------------------------


def snapshot() -> dict[str, list]:
    """Every row of every table, to show that a refused request stored nothing."""
    db.session.expire_all()
    rows = {}
    for table in db.metadata.sorted_tables:
        if inspect(db.engine).has_table(table.name):
            rows[table.name] = sorted(map(tuple, db.session.execute(select(table)).all()), key=repr)
    return rows


def test_every_state_changing_request_needs_a_csrf_token(
    app, client, moderator, create_opportunity
):
    opportunity = create_opportunity(deadlines=[("application", (NOW + timedelta(days=9)).date())])
    client.post("/submit", data=form_data(client, feed_url="https://example.org/feed"))
    submission = db.session.scalar(select(Submission))
    submission.status = "pending"
    db.session.commit()
    sign_in(client, moderator)
    before = snapshot()
    values = {"submission_id": submission.id, "opportunity_id": opportunity.id, "token": "x"}
    exempt = app.extensions["csrf"]._exempt_views
    posted = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        if f"{view.__module__}.{view.__name__}" in exempt:
            # RFC 8058 one-click unsubscribe: mail clients post without a token. "Remind me"
            # sits on cached pages shared between readers, acts on no session, and can only
            # lead to one email an hour to the address typed (tests/test_subscribing.py).
            assert rule.endpoint in (
                "subscriptions.unsubscribe_now",
                "subscriptions.remind",
            ), f"{rule.endpoint} skips the CSRF check"
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{argument}>", str(values.get(argument, 1)), path)
        data = form_data(client) if rule.endpoint == "submissions.form" else {}
        data.pop("csrf_token", None)
        data.update(reason="spam", status="hidden", decision="add", kind="event", action="save")
        response = client.post(path, data=data)
        assert response.status_code == 400, (rule.endpoint, response.status_code)
        assert "CSRF" in response.get_data(as_text=True), rule.endpoint
        posted += 1
    assert posted >= 10
    assert snapshot() == before


# --- XSS ----------------------------------------------------------------------------------------


def payload_form(client, payload: str) -> dict:
    url_safe = payload.replace(" ", "%20")
    return form_data(
        client,
        organisation=f"Org {payload}",
        contact_name=f"Ana {payload}",
        title=f"Summit {payload}",
        description=f"About {payload}\n\nMore: https://example.org/a?{url_safe}",
        link=f"https://example.org/call?{url_safe}",
        place=f"Nairobi {payload}",
        eligibility=f"Paralegals {payload}",
        languages=f"English {payload}",
        feed_url=f"https://example.org/feed?{url_safe}",
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_in_every_field_reaches_no_page_or_email_unescaped(
    client, smtp_server, moderator, payload
):
    response = client.post("/submit", data=payload_form(client, payload))
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    submission = db.session.scalar(select(Submission))
    assert submission.details["title"] == f"Summit {payload}"  # stored as typed

    body = smtp_server.wait_for(1)[0].message.get_body(("plain",)).get_content()
    confirm = re.search(r"http://openings\.example\.org(/submit/confirm/\S+)", body).group(1)
    assert_page_is_inert(client.get(confirm).get_data(as_text=True), payload, "confirm page")
    done = client.post(confirm, data={"csrf_token": csrf_token(client, confirm)})
    assert_page_is_inert(done.get_data(as_text=True), payload, "confirmed page")
    smtp_server.wait_for(2)

    sign_in(client, moderator)
    admin_pages = [
        "/admin/",
        f"/admin/submissions/{submission.id}",
        f"/admin/submissions/{submission.id}/edit",
        "/admin/feeds",
        "/admin/mail",
    ]
    for path in admin_pages:
        assert_page_is_inert(client.get(path).get_data(as_text=True), payload, path)
    page = f"/admin/submissions/{submission.id}"
    client.post(f"{page}/approve", data={"csrf_token": csrf_token(client, page)})
    smtp_server.wait_for(3)
    opportunity = db.session.scalar(select(Opportunity))
    assert opportunity.title == f"Summit {payload}"

    public = [
        "/",
        f"/opportunities/{opportunity.id}",
        f"/admin/opportunities/{opportunity.id}",
        "/admin/opportunities",
        "/admin/sources",
    ]
    for path in public:
        assert_page_is_inert(client.get(path).get_data(as_text=True), payload, path)
    search = client.get("/admin/opportunities", query_string={"q": payload})
    assert_page_is_inert(search.get_data(as_text=True), payload, "admin search")
    for subject, html in emails(smtp_server):
        assert_email_is_inert(html, payload, subject)
    assert_api_is_inert(client, payload, opportunity.id)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_payload_in_a_rejection_reason_reaches_the_email_escaped(
    admin_client, smtp_server, payload
):
    admin_client.post("/submit", data=form_data(admin_client))
    submission = db.session.scalar(select(Submission))
    submission.status = "pending"
    db.session.commit()
    page = f"/admin/submissions/{submission.id}"
    admin_client.post(
        f"{page}/reject", data={"csrf_token": csrf_token(admin_client, page), "reason": payload}
    )
    assert db.session.get(Submission, submission.id).rejection_reason == payload
    subject, html = emails(smtp_server.wait_for(2) and smtp_server)[-1]
    assert_email_is_inert(html, payload, subject)
    assert_page_is_inert(admin_client.get(page).get_data(as_text=True), payload, page)


def rss(items: list[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{xml_escape(PAYLOADS[0])}</title><link>https://example.org/</link>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def test_feed_content_with_payloads_reaches_no_page_unescaped(admin_client):
    due = (NOW + timedelta(days=30)).strftime("%d %B %Y")
    items = []
    for number, payload in enumerate(PAYLOADS):
        text = xml_escape(payload)
        items.append(
            f"<item><title>Summit {number} {text}</title>"
            f"<link>https://example.org/e/{number}?x={xml_escape(payload.replace(' ', '%20'))}</link>"
            f"<guid>{text}-{number}</guid><dc:creator>{text}</dc:creator>"
            f"<description><![CDATA[<p>Apply by {due}. {payload}</p><p>{payload}</p>]]></description>"
            "</item>"
        )
        items.append(
            f"<item><title>Escaped {number}</title><link>https://example.org/x/{number}</link>"
            f"<description>{xml_escape(payload)} deadline {due}</description></item>"
        )
    source = Source(name=PAYLOADS[2], url="https://example.org/feed.xml", kind="feed")
    db.session.add(source)
    parsed = parse_feed(rss(items))
    assert len(parsed.entries) == 2 * len(PAYLOADS)
    store_entries(db.session, source, parsed.entries, NOW)
    db.session.commit()
    checked = 0
    for path in ["/", "/admin/opportunities", "/admin/sources"]:
        assert_page_is_inert(admin_client.get(path).get_data(as_text=True), "", path)
    for opportunity in db.session.scalars(select(Opportunity)):
        number = int(re.search(r"\d+", opportunity.title).group(0))
        payload = PAYLOADS[number]
        for path in (f"/opportunities/{opportunity.id}", f"/admin/opportunities/{opportunity.id}"):
            assert_page_is_inert(admin_client.get(path).get_data(as_text=True), payload, path)
            checked += 1
    assert checked == 4 * len(PAYLOADS)


def assert_api_is_inert(client, payload: str, opportunity_id: int) -> None:
    """The API and feeds (from the discovery work), when this checkout has them.

    JSON must be served as JSON with nosniff and carry the title back as the same text;
    XML or calendar output must not carry the payload's markup as is.
    """
    for rule in client.application.url_map.iter_rules():
        public_data = rule.rule.startswith("/api/") or rule.rule.endswith((".atom", ".ics"))
        if not public_data or "GET" not in rule.methods:
            continue
        if not set(rule.arguments) <= {"opportunity_id", "id"}:
            continue
        path = re.sub(r"<(?:\w+:)?\w+>", str(opportunity_id), rule.rule)
        response = client.get(path)
        if response.status_code != 200:
            continue
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        if response.is_json:
            assert response.mimetype == "application/json", path
            strings = list(json_strings(response.get_json()))
            if any(text.startswith("Summit ") for text in strings):
                assert f"Summit {payload}" in strings, path
        else:
            assert_not_verbatim(response.get_data(as_text=True), payload, path)


def json_strings(value) -> list[str]:
    """Every string in a JSON document."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in json_strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in json_strings(item)]
    return []


# --- SQL-like input -----------------------------------------------------------------------------

SQL_LIKE = [
    "Robert'); DROP TABLE opportunities;--",
    "' OR '1'='1",
    '" OR ""="',
    "1; DELETE FROM submissions WHERE 1=1; --",
    "%' UNION SELECT password_hash FROM users --",
    "\\'; SELECT pg_sleep(10); --",
]


@pytest.mark.parametrize("text", SQL_LIKE)
def test_sql_like_input_is_stored_and_shown_as_text(admin_client, text):
    data = form_data(admin_client, title=text, organisation=text, description=text)
    assert admin_client.post("/submit", data=data).status_code == 303
    submission = db.session.scalar(select(Submission))
    assert (submission.organisation, submission.details["title"]) == (text, text)
    submission.status = "pending"
    db.session.commit()
    page = f"/admin/submissions/{submission.id}"
    admin_client.post(f"{page}/approve", data={"csrf_token": csrf_token(admin_client, page)})
    opportunity = db.session.scalar(select(Opportunity))
    assert opportunity.title == text and opportunity.summary_text == text
    public = admin_client.get(f"/opportunities/{opportunity.id}").get_data(as_text=True)
    shown = text.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")
    assert shown in public
    found = admin_client.get("/admin/opportunities", query_string={"q": text})
    assert shown in found.get_data(as_text=True)
    union = admin_client.get("/admin/opportunities", query_string={"q": SQL_LIKE[4]})
    assert "scrypt:" not in union.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Opportunity)) == 1


# --- email header injection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_name", "Ana\r\nBcc: everyone@example.org"),
        ("contact_name", "Ana\nSubject: hi"),
        ("contact_email", "ana@example.org\r\nBcc: everyone@example.org"),
        ("contact_email", "ana@example.org%0d%0aBcc:everyone@example.org"),
        ("contact_email", "ana@example.org, everyone@example.org"),
        ("contact_email", '"<script>"@example.org'),
        ("organisation", "Red\r\nBcc: everyone@example.org"),
    ],
)
def test_header_injection_in_name_or_email_is_refused(client, smtp_server, field, value):
    response = client.post("/submit", data=form_data(client, **{field: value}))
    assert response.status_code == 422
    assert db.session.scalar(select(Submission)) is None
    assert smtp_server.messages == []
