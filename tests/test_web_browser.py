"""The web page in real headless Chromium (Debian's /usr/bin/chromium via Python playwright) against
a real uvicorn on loopback: log in, review ten items by keyboard, work a ticket, hostile content stays
inert, CSRF and anonymous access are refused, and a screenshot of every page for a human to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.models import AuditLog, Review, Ticket

from webapp import ADMIN, REVIEWER, running_app

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("BHXH_REQUIRE_SERVICES") == "1":
            pytest.fail(f"BHXH_REQUIRE_SERVICES=1 but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("web")) as web:
        yield web


@pytest.fixture(scope="module")
def shots(output_dir) -> Path:
    folder = output_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Watch:
    """Collects what must not happen on a page: dialogs (alert), script errors, console errors."""

    def __init__(self, page):
        self.dialogs, self.errors = [], []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))


@pytest.fixture
def page(browser, web):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.watch = Watch(page)
    yield page
    context.close()


def login(page, web, who=REVIEWER):
    page.goto(web.url + "/login")
    page.fill('input[name="username"]', who[0])
    page.fill('input[name="password"]', who[1])
    page.click('button[type="submit"]')
    page.wait_for_url(web.url + "/")


def test_anonymous_visitor_is_sent_to_login(page, web, shots):
    for path in ("/", "/review", f"/tickets/{web.seed.ticket_id}", "/search", "/rumours", "/model"):
        page.goto(web.url + path)
        assert page.url.startswith(web.url + "/login"), path
    assert page.locator("h1").inner_text() == "Đăng nhập"
    page.screenshot(path=str(shots / "login.png"), full_page=True)
    response = page.request.post(web.url + f"/review/{web.seed.item_ids[0]}", form={"relevant": "1"})
    assert response.status == 403


def test_review_ten_items_with_the_keyboard(page, web, shots):
    login(page, web)
    page.goto(web.url + "/review")
    page.screenshot(path=str(shots / "review.png"), full_page=False)
    expected = {}
    for i in range(10):
        card = page.locator("article.card.current")
        item_id = int(card.get_attribute("data-item"))
        misleading_before = card.locator('input[name="misleading"]').is_checked()
        category = card.locator('select[name="category"]').input_value()
        relevant_key = "1" if i % 2 else "0"
        sentiment_key = "nup"[i % 3]
        page.keyboard.press(relevant_key)
        page.keyboard.press(sentiment_key)
        if i % 4 == 0:
            page.keyboard.press("m")
        page.keyboard.press("Enter")
        page.locator(f"#item-{item_id}.done").wait_for()
        expected[item_id] = {"relevant": relevant_key == "1",
                             "sentiment": {"n": "negative", "u": "neutral", "p": "positive"}[sentiment_key],
                             "misleading": misleading_before != (i % 4 == 0), "category": category}
    assert "Đã lưu" in page.locator(f"#item-{item_id} .status").inner_text()
    page.screenshot(path=str(shots / "review-after-ten.png"), full_page=False)
    with web.sessions() as session:
        reviews = {r.item_id: r for r in session.scalars(select(Review).where(Review.item_id.in_(expected)))}
        assert len(reviews) == 10
        for item_id, after in expected.items():
            assert reviews[item_id].after == after
            assert reviews[item_id].reviewer == REVIEWER[0] and reviews[item_id].before
        audited = session.scalars(select(AuditLog.target).where(AuditLog.action.in_(
            ["label_confirmed", "label_corrected"]))).all()
        assert {f"item:{i}" for i in expected} <= set(audited)
    page.keyboard.press("k")  # the help line's navigation keys move the selection back
    assert page.locator("article.card.current").count() == 1
    assert page.watch.errors == [] and page.watch.dialogs == []


def test_acknowledge_and_close_a_ticket(page, web, shots):
    login(page, web)
    page.goto(web.url + "/tickets")
    page.screenshot(path=str(shots / "tickets.png"), full_page=True)
    page.click(f'a[href="/tickets/{web.seed.ticket_id}"]')
    page.screenshot(path=str(shots / "ticket.png"), full_page=True)
    page.click('button[data-state="acknowledged"]')
    assert page.locator("#ticket-state").inner_text() == "Đã tiếp nhận"
    page.fill('textarea[name="text"]', "Đã liên hệ phóng viên để đính chính")
    page.click('form.note-form button')
    page.click('button[data-state="closed"]')
    assert page.locator("#ticket-state").inner_text() == "Đã đóng"
    assert page.locator('button[data-state="new"]').count() == 1  # reopen offered
    assert "Đã liên hệ phóng viên để đính chính" in page.locator(".timeline").inner_text()
    with web.sessions() as session:
        ticket = session.get(Ticket, web.seed.ticket_id)
        assert ticket.state == "closed" and ticket.acknowledged_at is not None
        assert [(e.kind, e.to_state, e.actor) for e in ticket.events][1:] == [
            ("state_changed", "acknowledged", "canbo"), ("note", None, "canbo"), ("state_changed", "closed", "canbo")]


def test_hostile_item_renders_as_text_and_runs_nothing(page, web, shots):
    login(page, web)
    hostile = web.seed.xss_item_id
    pages = {"review-hostile": "/review?sentiment=negative&category=misinformation",
             "search-hostile": "/search?q=tin+gia+bao+hiem", "ticket-hostile": f"/tickets/{web.seed.ticket_id}"}
    for name, path in pages.items():
        page.goto(web.url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.__xss") == "undefined", path
        title = page.locator(".item-title", has_text="Tin giả về").first
        assert '<script>window.__xss=1;alert("xss-title")</script>' in title.inner_text(), path
        assert page.locator('a[href^="javascript:"]').count() == 0, path
        assert page.locator("main img, main svg, main script").count() == 0, path
        page.screenshot(path=str(shots / f"{name}.png"), full_page=False)
    card = page.locator(f"#item-{hostile}")
    if card.count():
        assert card.locator(".bad-link").inner_text() == "javascript:alert(5)"
    page.goto(web.url + "/review?sentiment=negative&category=misinformation")
    assert page.locator(f"#item-{hostile} .bad-link").inner_text() == "javascript:alert(5)"
    assert page.watch.dialogs == [] and page.watch.errors == []


def test_state_change_without_csrf_token_is_refused(page, web):
    login(page, web)
    page.goto(web.url + f"/tickets/{web.seed.second_ticket_id}")
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    url = web.url + f"/tickets/{web.seed.second_ticket_id}/state"
    assert page.request.post(url, form={"to_state": "closed"}, max_redirects=0).status == 403
    assert page.request.post(url, form={"to_state": "closed", "csrf_token": "gia-mao"}, max_redirects=0).status == 403
    with web.sessions() as session:
        assert session.get(Ticket, web.seed.second_ticket_id).state == "acknowledged"
    ok = page.request.post(url, form={"to_state": "responding", "csrf_token": token}, max_redirects=0)
    assert ok.status == 303
    with web.sessions() as session:
        assert session.get(Ticket, web.seed.second_ticket_id).state == "responding"


def test_inline_script_is_blocked_by_the_policy(page, web):
    """Defence in depth: even injected inline script would not run under the page's CSP."""
    login(page, web)
    page.goto(web.url + "/search")
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__inline = 1'; document.body.appendChild(s); }""")
    assert page.evaluate("typeof window.__inline") == "undefined"


def test_screenshot_of_every_page_with_vietnamese_text(page, web, shots):
    login(page, web, ADMIN)
    pages = {"dashboard": "/", "search": "/search?q=bao+hiem", "rumours": "/rumours",
             "rumour": f"/rumours/{web.seed.rumour_id}", "rumour-form": "/rumours/new", "model": "/model", "audit": "/audit", "users": "/users"}
    for name, path in pages.items():
        page.goto(web.url + path)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        assert (shots / f"{name}.png").stat().st_size > 10_000
    page.goto(web.url + "/")
    # The chart image loaded (same origin, allowed by img-src 'self').
    assert page.evaluate("document.querySelector('img.chart').naturalWidth") > 100
    text = page.locator("main").inner_text()
    assert "phiếu khủng hoảng đang mở" in text and "Tình trạng nguồn tin" in text
    # A Vietnamese font is used: the computed family lists DejaVu Sans as the fallback.
    assert "DejaVu Sans" in page.evaluate("getComputedStyle(document.body).fontFamily")
    assert page.evaluate("document.fonts.check('16px \"DejaVu Sans\"', 'Bảo hiểm xã hội ữ ặ đ')")
    assert page.watch.errors == [] and page.watch.dialogs == []
