"""SC-A11Y: axe-core on the main pages of every demo role finds no serious or critical violation.

axe-core is vendored (tests/browser/vendor/axe.min.js, see the README there) and injected into
each page; the browser context bypasses the app's CSP for that one script. The pages are the login
page and, per demo role, the start page and the pages of its main navigation (CI); the long run
takes every demo login, every page the start page links to and the detail pages those link to.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest

from praevcase.demo import DEMO_PASSWORD
from praevcase.demo import LOGINS
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SKIP_SUFFIXES = (".pdf", ".csv", ".ics", ".json", ".css", ".js")
MAX_PAGES_PER_ROLE = 14


def _axe(page) -> list[dict]:
    page.add_script_tag(content=AXE)
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _links(page, base_url: str, selector: str = "a[href]") -> list[str]:
    hrefs = page.eval_on_selector_all(selector, "els => els.map(e => e.getAttribute('href'))")
    out = []
    for href in hrefs:
        url = urlparse(href)
        if url.scheme or url.netloc or not url.path.startswith("/") or url.path.endswith(SKIP_SUFFIXES):
            continue
        if url.path.startswith(("/static/", "/api/")) or url.path in out:
            continue
        out.append(url.path)
    return out


def _is_detail(path: str) -> bool:
    """A page of one object (its last segment is an id) or a form."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return len(last) == 36 and last.count("-") == 4 or last in ("neu", "bearbeiten", "moderation", "protokoll")


def _describe(url: str, violations: list[dict]) -> list[str]:
    return [f"{url}: {v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(n["target"][0] if isinstance(n["target"][0], str) else json.dumps(n["target"])
                        for n in v["nodes"][:3]) for v in violations]


@pytest.fixture
def axe_page(browser):
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def test_sc_a11y_main_pages_of_every_demo_role_have_no_serious_or_critical_violation(axe_page, live_server,
                                                                                   record_property):
    """CI: one login per role, the start page and the pages of its main navigation."""
    _crawl(axe_page, live_server, record_property, depth=1, check="SC-A11Y", full=False)


@pytest.mark.long
def test_sc_a11y_detail_pages_of_every_demo_role_too(axe_page, live_server, record_property):
    """One level deeper: the cases, sessions, protocols, offers … the main pages link to."""
    _crawl(axe_page, live_server, record_property, depth=2, check="SC-A11Y-detail", full=True)


def _crawl(page, live_server, record_property, *, depth: int, check: str, full: bool) -> None:
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    assert {v["id"] for v in _axe(page)} >= {"image-alt", "label"}, "axe does not run"
    found: list[str] = []
    pages = 0
    page.goto(f"{live_server}/login")
    found += _describe("/login", _axe(page))
    pages += 1
    roles = set()
    for login in LOGINS:
        if not full and login.role in roles:
            continue
        roles.add(login.role)
        page.context.clear_cookies()
        sign_in(page, live_server, login.email, DEMO_PASSWORD)
        page.wait_for_url(f"{live_server}/")
        selector = "a[href]" if full else "nav a[href]"
        targets = ["/", *[p for p in _links(page, live_server, selector) if p != "/"]][:MAX_PAGES_PER_ROLE]
        seen = set(targets)
        level = 1
        while targets:
            deeper: list[str] = []
            for path in targets:
                response = page.goto(f"{live_server}{path}")
                if response is None or response.status != 200 or "text/html" not in response.headers.get(
                        "content-type", ""):
                    continue
                found += _describe(f"{login.role.value}:{path}", _axe(page))
                pages += 1
                if level < depth:
                    new = [p for p in _links(page, live_server) if p not in seen and _is_detail(p)][:2]
                    seen.update(new)
                    deeper += new
            targets, level = deeper[:MAX_PAGES_PER_ROLE], level + 1
    record_property("scorecard", f"{check} {{outcome}} pages={pages} serious_or_critical={len(found)}")
    assert not found, f"{len(found)} serious/critical violations:\n" + "\n".join(found)
