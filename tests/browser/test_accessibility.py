"""The pages in real headless Chromium: axe-core finds no serious or critical violation, and
they work at 320 px, from the keyboard, with no JavaScript of ours (see chromium.py)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from chromium import AXE, chromium
from conftest import free_port
from werkzeug.serving import make_server

PAGES = [
    ("list", "/"),
    (
        "filtered list",
        "/?kind=fellowship&region=latin-america-caribbean&closing=90&funding=stipend",
    ),
    ("search", "/?q=paralegal+grants&sort=relevance"),
    ("empty result", "/?q=nothingmatchesthis"),
    ("detail", "/opportunities/{open}"),
    ("closed detail", "/opportunities/{closed}"),
    ("subscribe form", "/subscribe?kind=fellowship&region=africa&q=visa"),
    ("time zone form", "/time-zone?next=/"),
    ("not found", "/opportunities/999999"),
]
"""Every page the tests open: adding a page (the subscribe or submit form) is one line here."""


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def site(app, create_opportunity) -> Iterator[tuple[str, dict[str, int]]]:
    """The app with a few opportunities, served on 127.0.0.1 from a thread."""
    today = _now()
    opened = create_opportunity(
        "Fellowship for community paralegals in Bogotá",
        kind="fellowship",
        deadlines=[("application", (today + timedelta(days=20)).date())],
        countries=("CO",),
        offers_stipend=True,
        language="es",
        summary_html="<p>Una beca para <strong>paralegales</strong> comunitarios.</p>",
        summary_text="Una beca para paralegales comunitarios.",
    )
    closed = create_opportunity(
        "Fellowship in Lima (closed)",
        kind="fellowship",
        deadlines=[("application", (today - timedelta(days=3)).date(), None, "AoE")],
        countries=("PE",),
    )
    create_opportunity(
        "Travel grants for paralegals to the regional summit",
        kind="travel_grant",
        deadlines=[("travel_support", (today + timedelta(days=5)).date())],
        countries=("KE",),
        offers_travel=True,
    )
    create_opportunity("Rolling small grants", kind="grant", is_rolling=True)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", {"open": opened.id, "closed": closed.id}
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Playwright."""
    with chromium() as browser:
        yield browser


def open_page(browser, url: str, *, width: int = 1280, javascript: bool = True):
    # The site's CSP forbids inline scripts, which is how axe is injected: bypass it in tests.
    context = browser.new_context(
        viewport={"width": width, "height": 800}, bypass_csp=True, java_script_enabled=javascript
    )
    page = context.new_page()
    response = page.goto(url)
    return context, page, response


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[name for name, _ in PAGES])
def test_no_serious_or_critical_accessibility_violations(browser, site, name, path):
    base, ids = site
    context, page, response = open_page(browser, base + path.format(**ids))
    try:
        assert response.status in (200, 404)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, "\n".join(serious)
    finally:
        context.close()


@pytest.mark.parametrize(("name", "path"), PAGES[:7], ids=[name for name, _ in PAGES[:7]])
def test_usable_at_320_px_without_javascript(browser, site, name, path):
    base, ids = site
    context, page, _ = open_page(browser, base + path.format(**ids), width=320, javascript=False)
    try:
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 320px"
    finally:
        context.close()


def test_filters_work_from_the_keyboard_without_javascript(browser, site):
    base, _ = site
    context, page, _ = open_page(browser, base + "/", javascript=False)
    try:
        page.keyboard.press("Tab")
        skip = page.locator("a.skip")
        assert skip.evaluate("el => el === document.activeElement")
        box = skip.bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0, "skip link stays off screen"
        outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
        assert outline != "none", "focus is not visible"
        page.locator("summary").click()
        page.get_by_label("Fellowship").check()
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_load_state()
        assert "kind=fellowship" in page.url
        titles = page.locator("ol.results h2").all_inner_texts()
        assert titles == ["Fellowship for community paralegals in Bogotá"]
        page.go_back()
        assert page.url.rstrip("/") == base
    finally:
        context.close()


def test_the_subscribe_form_reports_problems_without_javascript(browser, site):
    base, _ = site
    context, page, _ = open_page(browser, base + "/subscribe", width=320, javascript=False)
    try:
        page.get_by_label("Your email address").fill("not an address")
        page.get_by_label("Keywords").fill("visa, paralegal")
        page.get_by_role("group", name="When to alert me").get_by_label("14 days before").uncheck()
        page.get_by_role("button", name="Send me the confirmation link").click()
        page.wait_for_load_state()
        summary = page.locator(".error-summary")
        assert summary.is_visible()
        summary.get_by_role("link", name=re.compile("Your email address")).click()
        assert page.url.endswith("#email")
        assert page.get_by_label("Keywords").input_value() == "visa, paralegal"
        assert (
            not page.get_by_role("group", name="When to alert me")
            .get_by_label("14 days before")
            .is_checked()
        )
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the subscribe form scrolls sideways by {overflow}px at 320px"
    finally:
        context.close()
    context, page, _ = open_page(browser, base + "/subscribe")
    try:
        page.get_by_role("button", name="Send me the confirmation link").click()
        page.wait_for_load_state()
        assert page.locator(".error-summary").is_visible()
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, serious
    finally:
        context.close()
