"""The dashboard in real headless Chromium: counts, live errors, filters, detail, keyboard, XSS (R5)."""

from __future__ import annotations

import asyncio
import time
import urllib.request
import uuid
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.fixtures.traffic import keyed, log_record, produce

XSS = [
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=1</script>",
    '"><svg onload="window.__xss=1">',
    "javascript:window.__xss=1",
]
EXCEPTION = {"type": "ValueError", "message": "bad seat",
             "stacktrace": 'Traceback\n  File "app.py", line 3\nValueError: bad seat'}


def send(worker: Any, *records: dict[str, Any]) -> None:
    env = worker.env
    asyncio.run(produce(env["KAFKA_BOOTSTRAP_SERVERS"], env["LOGMONITOR_TOPIC_LOGS"], keyed(records)))


@pytest.fixture(scope="module")
def worker(module_worker: Any) -> Any:
    records = [log_record("booking", level, f"booking {i}") for i, level in enumerate(["INFO"] * 6 + ["ERROR"] * 3)]
    records += [log_record("payment", "CRITICAL", "gateway unreachable", exception=EXCEPTION,
                           request_id="req-77", extra={"order": 12})]
    send(module_worker, *records)
    module_worker.wait_counted(len(records))
    return module_worker


@pytest.fixture
def page(browser: Any, worker: Any) -> Any:
    browser.get(worker.url + "/")
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "connection").text == "live")
    return browser


def feed_texts(browser: Any) -> list[str]:
    """The feed rows' text, read in one go (the feed re-renders as errors arrive)."""
    return list(browser.execute_script("return [...document.querySelectorAll('#feed tr')].map(r => r.textContent)"))


def focus_row(browser: Any, text: str) -> None:
    """Give keyboard focus to the feed row containing ``text``."""
    browser.execute_script(
        "[...document.querySelectorAll('#feed tr')].find(r => r.textContent.includes(arguments[0])).focus()", text)


def digits(text: str) -> int:
    return int("".join(ch for ch in text if ch.isdigit()) or -1)


def test_page_has_a_strict_content_security_policy(worker: Any) -> None:
    with urllib.request.urlopen(worker.url + "/") as response:
        policy = response.headers["Content-Security-Policy"]
        body = response.read().decode()
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in body and "style=" not in body, "no inline script or style"


def test_it_shows_the_counts_from_the_api(page: Any, worker: Any) -> None:
    stats = worker.get_json("/api/v1/logs/stats")
    WebDriverWait(page, 10).until(lambda d: digits(d.find_element(By.ID, "total-logs").text) == stats["total_logs"])
    assert digits(page.find_element(By.ID, "total-errors").text) == stats["total_errors"]
    script = ("return [...document.querySelectorAll('#levels tr')]"
              ".map(r => [r.cells[0].textContent, r.cells[2].textContent])")
    levels = dict(page.execute_script(script))
    levels = {level: digits(text) for level, text in levels.items()}
    assert levels["CRITICAL"] == stats["by_level"]["CRITICAL"] and levels["ERROR"] == stats["by_level"]["ERROR"]
    assert page.find_elements(By.CSS_SELECTOR, "#chart path"), "one line per service with errors"
    assert "gateway unreachable" in page.find_element(By.ID, "groups").text


def test_a_new_error_appears_without_reload(page: Any, worker: Any) -> None:
    marker = f"seat map lost {uuid.uuid4().hex[:8]}"
    page.execute_script("window.__notReloaded = true")
    produced = time.monotonic()
    send(worker, log_record("booking", "ERROR", marker))
    WebDriverWait(page, 15, poll_frequency=0.05).until(lambda d: any(marker in text for text in feed_texts(d)))
    print(f"visible on the dashboard {time.monotonic() - produced:.2f} s after the produce call returned")
    assert page.execute_script("return window.__notReloaded") is True


def test_filters_narrow_the_feed(page: Any) -> None:
    WebDriverWait(page, 10).until(lambda d: len(feed_texts(d)) >= 4)
    Select(page.find_element(By.ID, "filter-service")).select_by_value("payment")
    WebDriverWait(page, 10).until(lambda d: all("payment" in text for text in feed_texts(d)))
    assert len(feed_texts(page)) == 1
    Select(page.find_element(By.ID, "filter-service")).select_by_value("")
    Select(page.find_element(By.ID, "filter-level")).select_by_value("ERROR")
    WebDriverWait(page, 10).until(lambda d: feed_texts(d) and all("ERROR" in text for text in feed_texts(d)))
    Select(page.find_element(By.ID, "filter-level")).select_by_value("")
    page.find_element(By.ID, "filter-text").send_keys("gateway")
    WebDriverWait(page, 10).until(lambda d: len(feed_texts(d)) == 1 and "gateway" in feed_texts(d)[0])


def test_detail_view_by_keyboard_shows_stack_trace_and_context(page: Any) -> None:
    WebDriverWait(page, 10).until(lambda d: any("gateway" in text for text in feed_texts(d)))
    focus_row(page, "gateway")
    page.switch_to.active_element.send_keys(Keys.ENTER)
    dialog = page.find_element(By.ID, "detail")
    WebDriverWait(page, 5).until(lambda d: dialog.get_attribute("open") is not None)
    assert "ValueError: bad seat" in page.find_element(By.ID, "detail-stack").text
    fields = page.find_element(By.ID, "detail-fields").text
    assert "req-77" in fields and "gateway unreachable" in fields
    assert '"order": 12' in page.find_element(By.ID, "detail-extra").text
    page.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(page, 5).until(lambda d: dialog.get_attribute("open") is None)


def test_alerts_of_the_default_rules_are_shown(page: Any) -> None:
    WebDriverWait(page, 40).until(lambda d: "1 CRITICAL record in payment" in d.find_element(By.ID, "alerts").text)
    assert "critical · payment" in page.find_element(By.ID, "active-alerts").text
    assert not page.find_element(By.ID, "alerts-empty").is_displayed()


def test_hostile_log_text_never_executes(page: Any, worker: Any) -> None:
    records = [
        log_record(f"svc{i}{payload[:12]}", "ERROR", payload, logger=payload,
                   exception={"type": payload, "message": payload, "stacktrace": payload}, extra={payload: payload})
        for i, payload in enumerate(XSS)
    ]
    send(worker, *records)
    WebDriverWait(page, 15).until(lambda d: sum(any(p in t for t in feed_texts(d)) for p in XSS) == len(XSS))
    for payload in XSS:
        focus_row(page, payload)
        page.switch_to.active_element.send_keys(Keys.ENTER)
        assert page.find_element(By.ID, "detail-stack").text == payload
        page.switch_to.active_element.send_keys(Keys.ESCAPE)
    page.refresh()
    WebDriverWait(page, 20).until(lambda d: sum(any(p in t for t in feed_texts(d)) for p in XSS) == len(XSS))
    assert page.execute_script("return window.__xss") is None
    injected = page.find_elements(By.CSS_SELECTOR,
                                  "main img, main script, main svg:not(#chart, .sparkline), #detail img")
    assert injected == []
    severe = [entry for entry in page.get_log("browser") if entry["level"] == "SEVERE"]
    assert not [entry for entry in severe if "Content Security Policy" in entry["message"]], severe


def test_an_errors_breadcrumbs_and_release_are_shown_as_text_in_order(page: Any, worker: Any) -> None:
    crumbs = [{"timestamp": f"2026-12-06T10:00:0{n}.000Z", "level": level, "logger": "shop", "message": message}
              for n, (level, message) in enumerate([("DEBUG", "cart loaded"), ("INFO", XSS[0]),
                                                    ("WARNING", "bank slow")])]
    send(worker, log_record("crumbs", "ERROR", "checkout failed", breadcrumbs=crumbs, release="2.4.1",
                            environment="staging"))
    WebDriverWait(page, 15).until(lambda d: any("checkout failed" in text for text in feed_texts(d)))
    focus_row(page, "checkout failed")
    page.switch_to.active_element.send_keys(Keys.ENTER)
    items = page.find_elements(By.CSS_SELECTOR, "#detail-breadcrumbs li")
    assert [item.text for item in items] == [
        "2026-12-06 10:00:00.000 DEBUG shop: cart loaded", f"2026-12-06 10:00:01.000 INFO shop: {XSS[0]}",
        "2026-12-06 10:00:02.000 WARNING shop: bank slow"]
    assert not page.find_element(By.ID, "detail-breadcrumbs-empty").is_displayed()
    fields = page.find_element(By.ID, "detail-fields").text
    assert "2.4.1" in fields and "staging" in fields
    assert page.execute_script("return window.__xss") is None
    assert page.find_elements(By.CSS_SELECTOR, "#detail img") == []
    page.switch_to.active_element.send_keys(Keys.ESCAPE)
