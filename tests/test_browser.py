"""The shopper's and the owner's screens in a real browser: Playwright driving
Debian's Chromium against the real server and the local identity provider.
Screenshots of every step go to test-artifacts/browser/."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from storefront.management.commands.seed_demo import DEMO_POLICY_TEXT
from storefront.selectors import policy_get
from storefront.services import policy_set
from tenants.services import context_for_tenant_id
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SHOTS = ARTIFACTS / "browser"

if not Path(CHROMIUM).exists():  # `make test` installs it; a bare pytest run may not have it
    pytest.skip(f"no Chromium at {CHROMIUM}; `make test` installs Debian's chromium", allow_module_level=True)


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    # Playwright's sync API keeps an event loop in this thread; Django then refuses ORM
    # calls from it. The test's own ORM calls (fixtures, restoring data) are sequential.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def site(server_factory):
    """A server that streams slowly enough to watch (and interrupt) an answer."""
    return server_factory("browser", {"ASSISTANT_LOCAL_CHUNK_DELAY": "0.2"})


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 850})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, url: str, username: str, password: str, *, start: str = "/") -> None:
    page.goto(url + start)
    if start == "/":
        page.click("#signin")
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(url) + r".*"))


def last_answer(page):
    return page.locator(".msg.bot").last


def ask(page, question: str) -> None:
    page.fill("#chat-input", question)
    page.keyboard.press("Enter")


def wait_done(page) -> str:
    page.wait_for_function(
        "() => !document.querySelector('.msg.bot.streaming') && !document.getElementById('chat-send').disabled"
    )
    return last_answer(page).inner_text()


def test_shopper_signs_in_sees_the_answer_grow_and_follows_up(site, demo, page):
    url = site.url("tenant2")
    call_command("orders", "tenant2-user", "clear")
    call_command("orders", "tenant2-user", "add")
    try:
        sign_in(page, url, "tenant2-user", demo["tenant2-user"]["password"])
        page.wait_for_selector("#chat-input")
        shot(page, "01-signed-in")
        # Shift+Enter adds a line, Enter sends
        page.fill("#chat-input", "")
        page.type("#chat-input", "line one")
        page.keyboard.press("Shift+Enter")
        page.type("#chat-input", "line two")
        assert page.input_value("#chat-input") == "line one\nline two"
        page.fill("#chat-input", "")

        ask(page, "What is your return policy?")
        lengths = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if page.locator(".msg.bot").count():
                lengths.append(len(last_answer(page).inner_text()))
                if page.locator(".msg.bot.streaming").count() == 0 and lengths[-1] > 0:
                    break
                if len(lengths) == 3:
                    assert page.is_disabled("#chat-send")  # no second question while one runs
            time.sleep(0.05)
        growing = sorted(set(n for n in lengths if n > 0))
        assert len(growing) >= 3, lengths  # the answer grew in place over several chunks
        text = wait_done(page)
        assert "within 20 days" in text
        shot(page, "02-policy-answer")

        [order] = re.findall(r"Order (\d+)", (ask(page, "Which orders did I place?"), wait_done(page))[1])
        ask(page, f"What is in order {order}?")
        assert f"Order {order}" in wait_done(page)
        ask(page, "and when was it placed?")
        follow_up = wait_done(page)
        assert re.fullmatch(rf"Order {order} was placed on \d{{4}}-\d{{2}}-\d{{2}}\.", follow_up.strip())
        assert "conversation=" in page.url
        shot(page, "03-follow-up")
    finally:
        call_command("orders", "tenant2-user", "clear")


def test_reload_in_the_middle_of_an_answer_and_see_it_complete(site, demo, page):
    url = site.url("tenant3")
    sign_in(page, url, "tenant3-user", demo["tenant3-user"]["password"])
    ask(page, "What is your return policy?")
    page.wait_for_function(
        "() => { const b = document.querySelector('.msg.bot.streaming'); return b && b.textContent.length > 0; }"
    )
    partial = last_answer(page).inner_text()
    page.wait_for_function("() => location.search.includes('conversation=')")
    page.reload()
    shot(page, "04-after-reload")
    text = wait_done(page)
    assert "within 30 days" in text and text.startswith(partial.strip()[:10])
    assert text.count("Items can be returned") == 1  # nothing replayed twice
    assert page.locator(".msg.me").last.inner_text() == "What is your return policy?"
    shot(page, "05-completed-after-reload")


def test_owner_changes_the_policy_and_the_shopper_sees_it(site, demo, browser):
    url = site.url("tenant1")
    ctx = context_for_tenant_id("tenant1")
    assert policy_get(ctx=ctx).days == 10
    owner = browser.new_context().new_page()
    shopper = browser.new_context().new_page()
    try:
        sign_in(owner, url, "tenant1-owner", demo["tenant1-owner"]["password"], start="/admin/")
        owner.wait_for_selector("#site-name")
        owner.click('a[href="/admin/storefront/returnpolicy/"]')
        owner.click("#result_list tbody a")
        owner.fill("input[name=days]", "15")
        shot(owner, "06-owner-edits-policy")
        owner.click("input[name=_save]")
        owner.wait_for_selector(".messagelist")
        shot(owner, "07-owner-saved")
        assert policy_get(ctx=ctx).days == 15

        sign_in(shopper, url, "tenant1-user", demo["tenant1-user"]["password"])
        ask(shopper, "What is your return policy?")
        text = wait_done(shopper)
        assert "within 15 days" in text and "10 days" not in text
        shot(shopper, "08-shopper-sees-15-days")
    finally:
        policy_set(ctx=ctx, days=10, updated_by="test", text=DEMO_POLICY_TEXT)
        owner.context.close()
        shopper.context.close()


def test_sign_out_closes_the_socket_and_signs_the_page_out(site, demo, browser):
    url = site.url("tenant3")
    context = browser.new_context()
    first, second = context.new_page(), context.new_page()
    try:
        sign_in(first, url, "tenant3-user", demo["tenant3-user"]["password"])
        second.goto(url + "/")
        second.wait_for_selector("#chat-input")
        second.wait_for_function("() => document.getElementById('chat-status').textContent === ''")
        first.click("#signout")
        first.wait_for_selector("#signin")
        shot(first, "09-signed-out")
        # the other tab's socket was closed by the server
        second.wait_for_function("() => document.body.dataset.assistant === 'closed'")
        assert "signed out" in second.inner_text("#chat-status")
        assert second.is_disabled("#chat-send")
        shot(second, "10-other-tab-closed")
        # signing in again asks for the password at the provider
        first.click("#signin")
        first.wait_for_selector("input[name=password]")
    finally:
        context.close()


def test_an_answer_containing_markup_is_shown_as_text(site, demo, page):
    url = site.url("tenant1")
    ctx = context_for_tenant_id("tenant1")
    markup = '<img src=x onerror="window.__xss=1"><b>bold</b><script>window.__xss=2</script>'
    policy_set(ctx=ctx, days=10, updated_by="test", text=markup)
    try:
        sign_in(page, url, "tenant1-user", demo["tenant1-user"]["password"])
        ask(page, "What is your return policy?")
        text = wait_done(page)
        assert markup in text
        bubble = last_answer(page)
        assert bubble.locator("img, b, script").count() == 0
        assert page.evaluate("() => window.__xss") is None
        # the page renders the policy escaped, too
        assert page.locator("#policy-text img").count() == 0
        shot(page, "11-markup-as-text")
    finally:
        policy_set(ctx=ctx, days=10, updated_by="test", text=DEMO_POLICY_TEXT)


def test_phone_sized_screen_and_keyboard_order(site, demo, browser):
    url = site.url("tenant2")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        sign_in(page, url, "tenant2-user", demo["tenant2-user"]["password"])
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390  # no horizontal scrolling
        assert page.get_attribute("#chat-input", "aria-describedby") == "chat-count chat-help"
        assert page.locator("label[for=chat-input]").count() == 1
        ask(page, "What is your return policy?")
        assert "within 20 days" in wait_done(page)
        shot(page, "12-phone")
    finally:
        context.close()
