"""The dashboard's error groups in real headless Chromium against a real worker and broker.

The triage flow of issue 20: the unresolved tab with counts and sparklines, a group's detail
(linkable at #group/<id>), Resolve by keyboard, the group leaving the tab and reopening as
regressed on a new event, Ignore until N more from the form, the token as the browser's basic-auth
header (never a cookie), hostile titles as text, and pages of 50 with 10,000 groups.
"""

from __future__ import annotations

import asyncio
import base64
import time
import urllib.error
import urllib.request
from typing import Any

import orjson
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.fixtures.traffic import keyed, log_record, produce
from tests.integration.test_dashboard import send

HOSTILE = '<img src=x onerror="window.__xss=1">'
TOKEN, LABEL = "dashboard-token-0123456789", "oncall"
PAGE = 50
DASH = "\u2013"  # an en dash, as the pager writes ranges
ROWS = """return [...document.querySelectorAll('#groups tr')].map(r => ({
  id: r.dataset.id, service: r.cells[1].textContent, title: r.querySelector('a').textContent,
  status: r.querySelector('.badge').textContent, count: r.cells[3].textContent,
  spark: r.querySelector('svg.sparkline').dataset.counts.split(',').map(Number)}))"""


def crash(service: str, n: int) -> dict[str, Any]:
    """An error of the one bug of ``service`` (the number is masked out of its group)."""
    exception = {"type": "TimeoutError", "message": f"call {n} timed out",
                 "stacktrace": f'Traceback\n  File "app.py", line 9, in pay\nTimeoutError: call {n} timed out'}
    return log_record(service, "ERROR", f"call {n} timed out", exception=exception, request_id=f"req-{n}")


def zone(i: int) -> str:
    """A word per number without digits or hex letters, so that each message is a group of its own."""
    return "".join("ghijklmnopqrstuvwxyz"[i // 20**place % 20] for place in range(4))


@pytest.fixture(scope="module")
def worker(module_worker: Any) -> Any:
    """Two groups: ui-pay (3 events with a stack) and ui-ship (2); and one with a hostile title."""
    records = [crash("ui-pay", n) for n in range(3)]
    records += [log_record("ui-ship", "ERROR", f"parcel {n} lost") for n in range(2)]
    records += [log_record("ui-xss", "ERROR", HOSTILE)]
    send(module_worker, *records)
    module_worker.wait_counted(len(records))
    return module_worker


def rows(browser: Any) -> list[dict[str, Any]]:
    """The listed groups, read in one go (the list re-renders every few seconds)."""
    return list(browser.execute_script(ROWS))


def row_of(browser: Any, service: str) -> dict[str, Any] | None:
    return next((row for row in rows(browser) if row["service"] == service), None)


def open_page(browser: Any, url: str, hash_route: str = "") -> Any:
    browser.get(url + "/" + hash_route)
    WebDriverWait(browser, 30).until(lambda d: rows(d) or hash_route)
    return browser


@pytest.fixture
def page(browser: Any, worker: Any) -> Any:
    return open_page(browser, worker.url)


def tab(browser: Any, status: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f"#group-tabs button[data-status={status}]").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f"#group-tabs button[data-status={status}]")
        .get_attribute("aria-pressed") == "true")


def tab_count(browser: Any, status: str) -> int:
    return int(browser.find_element(By.CSS_SELECTOR, f"#group-tabs button[data-status={status}] .count").text
               .replace(",", ""))


def open_by_keyboard(browser: Any, service: str) -> Any:
    """Focus the group's link, press Enter, wait for its detail; the dialog."""
    browser.execute_script(
        "[...document.querySelectorAll('#groups tr')].find(r => r.cells[1].textContent === arguments[0])"
        ".querySelector('a').focus()", service)
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    return detail_shown(browser)


def detail_shown(browser: Any) -> Any:
    dialog = browser.find_element(By.ID, "group-dialog")
    WebDriverWait(browser, 10).until(lambda d: dialog.get_attribute("open") is not None)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "group-fields").text)
    return dialog


def fields(browser: Any) -> dict[str, str]:
    script = ("const dl = document.getElementById('group-fields');"
              "return Object.fromEntries([...dl.querySelectorAll('dt')].map(dt => [dt.textContent,"
              " dt.nextElementSibling.textContent]))")
    return dict(browser.execute_script(script))


def drawn_bars(browser: Any, chart: str) -> list[dict[str, float]]:
    """Each bar of a detail chart as drawn: its height and bottom, the axis, and the height its attribute asks."""
    script = """
      const svg = document.getElementById(arguments[0]);
      const scale = svg.getBoundingClientRect().height / svg.viewBox.baseVal.height;
      const axis = svg.querySelector('line.axis').getBoundingClientRect().top;
      return [...svg.querySelectorAll('rect.bar')].map(rect => {
        const box = rect.getBoundingClientRect();
        return {height: box.height, bottom: box.bottom, axis: axis, asked: rect.height.baseVal.value * scale};
      });"""
    return list(browser.execute_script(script, chart))


def csp_violations(browser: Any) -> list[dict[str, Any]]:
    return [entry for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]]


def test_the_unresolved_tab_lists_each_group_with_its_count_and_sparkline(page: Any, worker: Any) -> None:
    WebDriverWait(page, 20).until(lambda d: row_of(d, "ui-pay") and row_of(d, "ui-ship"))
    pay, ship = row_of(page, "ui-pay"), row_of(page, "ui-ship")
    assert pay is not None and ship is not None
    assert (pay["count"], ship["count"]) == ("3", "2") and pay["status"] == "new"
    assert len(pay["spark"]) == 24 and pay["spark"][-1] == 3 and sum(ship["spark"]) == 2, "this hour's events"
    answer = worker.get_json("/api/v1/logs/groups")
    assert tab_count(page, "unresolved") == answer["by_status"]["unresolved"]
    assert page.execute_script("return document.querySelectorAll('#groups svg.sparkline path.bars').length") == len(
        rows(page))
    assert csp_violations(page) == []


def test_resolve_by_keyboard_leaves_the_tab_and_a_new_event_reopens_it_as_regressed(page: Any, worker: Any) -> None:
    WebDriverWait(page, 20).until(lambda d: row_of(d, "ui-pay"))
    group = row_of(page, "ui-pay")
    assert group is not None
    open_by_keyboard(page, "ui-pay")
    assert page.execute_script("return location.hash") == f"#group/{group['id']}", "the detail can be linked"
    assert page.switch_to.active_element.get_attribute("id") == "group-title", "focus moves into the detail"
    shown = fields(page)
    assert shown["Events"] == "3" and shown["Service"] == "ui-pay" and shown["Hosts"] == "ui-pay-1"
    assert page.find_element(By.ID, "group-title").text.startswith("TimeoutError: call ")
    for chart, buckets in (("group-hourly", 24), ("group-daily", 14)):
        drawn = drawn_bars(page, chart)
        assert len(drawn) == buckets
        *empty, now = drawn
        assert all(bar["height"] == 0 for bar in empty), "an empty hour or day draws nothing"
        assert now["height"] > 20 and now["height"] == pytest.approx(now["asked"], abs=0.5), \
            "drawn as tall as its count asks (no stylesheet overrides an SVG bar's height)"
        assert now["bottom"] == pytest.approx(now["axis"], abs=1), "a bar stands on the axis"
    first_event = page.find_element(By.CSS_SELECTOR, "#group-events li details")
    assert "TimeoutError: call 2 timed out" in first_event.find_element(By.CSS_SELECTOR, "pre.stack").text
    assert '"request_id": "req-2"' in first_event.find_element(By.CSS_SELECTOR, "pre.context").text

    page.find_element(By.ID, "group-resolve").send_keys(Keys.ENTER)
    WebDriverWait(page, 20).until(lambda d: d.find_element(By.ID, "group-saved").text == "Resolved.")
    assert fields(page)["Status"] == "resolved"
    assert "anonymous: unresolved → resolved" in page.find_element(By.ID, "group-history").text
    assert not page.find_element(By.ID, "group-resolve").is_displayed()
    assert page.switch_to.active_element.get_attribute("id") == "group-reopen", "the keyboard stays on the actions"
    page.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(page, 5).until(lambda d: d.find_element(By.ID, "group-dialog").get_attribute("open") is None)
    assert page.execute_script("return location.hash") == ""
    WebDriverWait(page, 10).until(lambda d: row_of(d, "ui-pay") is None)
    tab(page, "resolved")
    WebDriverWait(page, 10).until(lambda d: (row_of(d, "ui-pay") or {}).get("status") == "resolved")

    send(worker, crash("ui-pay", 3))
    tab(page, "unresolved")
    WebDriverWait(page, 40).until(lambda d: (row_of(d, "ui-pay") or {}).get("status") == "regressed")
    assert row_of(page, "ui-pay")["count"] == "4"  # type: ignore[index]
    assert tab_count(page, "regressed") >= 1
    assert csp_violations(page) == []


def test_ignore_until_n_more_from_the_form_of_a_linked_detail(browser: Any, worker: Any) -> None:
    group = next(g for g in worker.get_json("/api/v1/logs/groups")["groups"] if g["service"] == "ui-ship")
    page = open_page(browser, worker.url, f"#group/{group['id']}")
    detail_shown(page)
    page.find_element(By.ID, "group-ignore").send_keys(Keys.ENTER)
    assert page.find_element(By.ID, "group-ignore").get_attribute("aria-expanded") == "true"
    count = page.find_element(By.ID, "ignore-count")
    count.clear()
    count.send_keys("2")  # typing in the field chooses "until N more events"
    page.find_element(By.ID, "ignore-submit").send_keys(Keys.ENTER)
    WebDriverWait(page, 20).until(lambda d: d.find_element(By.ID, "group-saved").text == "Ignored.")
    assert fields(page)["Ignored"] == "until 2 more events (0 seen)"
    assert not page.find_element(By.ID, "ignore-form").is_displayed()
    page.find_element(By.ID, "group-close").send_keys(Keys.ENTER)
    WebDriverWait(page, 10).until(lambda d: rows(d) and row_of(d, "ui-ship") is None)
    tab(page, "ignored")
    WebDriverWait(page, 10).until(lambda d: (row_of(d, "ui-ship") or {}).get("status") == "ignored")

    send(worker, log_record("ui-ship", "ERROR", "parcel 7 lost"))
    time.sleep(1)  # not a timing assert: the first event must not end the ignore, the second must
    assert worker.get_json(f"/api/v1/logs/groups/{group['id']}")["status"] == "ignored"
    send(worker, log_record("ui-ship", "ERROR", "parcel 8 lost"))
    tab(page, "unresolved")
    WebDriverWait(page, 40).until(lambda d: row_of(d, "ui-ship") is not None)
    assert csp_violations(page) == []


def test_the_reason_of_a_change_is_shown_in_the_history_as_text(browser: Any, worker: Any) -> None:
    send(worker, crash("ui-why", 1))
    group = WebDriverWait(browser, 40).until(lambda _: next(
        (g for g in worker.get_json("/api/v1/logs/groups", service="ui-why")["groups"]), None))
    change = urllib.request.Request(worker.url + f"/api/v1/logs/groups/{group['id']}", method="PATCH",
                                    data=orjson.dumps({"status": "ignored", "reason": HOSTILE}),
                                    headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(change, timeout=30) as answered:
        assert answered.status in (200, 202)
    WebDriverWait(browser, 30).until(
        lambda _: worker.get_json(f"/api/v1/logs/groups/{group['id']}")["status"] == "ignored")
    page = open_page(browser, worker.url, f"#group/{group['id']}")
    detail_shown(page)
    history = page.find_element(By.ID, "group-history").text
    assert "unresolved → ignored" in history and f"“{HOSTILE}”" in history
    assert page.execute_script("return window.__xss") is None and csp_violations(page) == []


def test_a_hostile_title_is_shown_as_text_in_the_list_and_the_detail(page: Any) -> None:
    WebDriverWait(page, 20).until(lambda d: row_of(d, "ui-xss"))
    assert row_of(page, "ui-xss")["title"] == HOSTILE  # type: ignore[index]
    open_by_keyboard(page, "ui-xss")
    assert page.find_element(By.ID, "group-title").text == HOSTILE
    page.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert page.execute_script("return window.__xss") is None
    assert page.find_elements(By.CSS_SELECTOR, "main img, #group-dialog img, script:not([src])") == []
    assert csp_violations(page) == []


def test_with_a_token_the_browsers_basic_auth_header_carries_it_never_a_cookie(
    browser: Any, start_worker: Any
) -> None:
    worker = start_worker(LOGMONITOR_AUTH_TOKEN=TOKEN, LOGMONITOR_AUTH_TOKEN_LABEL=LABEL)
    worker.wait_healthy()
    send(worker, crash("guarded", 1))
    worker.wait_counted(1)
    refused = urllib.request.Request(worker.url + "/")
    try:
        urllib.request.urlopen(refused, timeout=10)
        raise AssertionError("the page answered without the token")
    except urllib.error.HTTPError as error:
        assert error.code == 401 and error.headers["WWW-Authenticate"].startswith("Basic "), "the browser asks"
    # What the browser sends once its basic-auth prompt was answered: the token as the password.
    basic = "Basic " + base64.b64encode(f"oncall:{TOKEN}".encode()).decode()
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": basic}})
    try:
        browser.get(worker.url + "/")
        WebDriverWait(browser, 20).until(lambda d: row_of(d, "guarded"))
        WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "total-logs").text == "1")
        open_by_keyboard(browser, "guarded")
        browser.find_element(By.ID, "group-resolve").send_keys(Keys.ENTER)
        WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "group-saved").text == "Resolved.")
        assert f"{LABEL}: unresolved → resolved" in browser.find_element(By.ID, "group-history").text
        assert browser.execute_script("return document.cookie") == ""
        stored = browser.execute_script("return JSON.stringify([sessionStorage, localStorage])")
        assert TOKEN not in stored and TOKEN not in browser.current_url
        assert csp_violations(browser) == []
    finally:
        browser.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})


def test_ten_thousand_groups_come_in_pages_of_fifty(browser: Any, start_worker: Any) -> None:
    worker = start_worker()
    worker.wait_healthy()
    records = [log_record(f"fleet-{i % 20}", "ERROR", f"cache miss in zone {zone(i)} after 3 tries")
               for i in range(10_000)]  # 500 groups in each of 20 services
    asyncio.run(produce(worker.env["KAFKA_BOOTSTRAP_SERVERS"], worker.env["LOGMONITOR_TOPIC_LOGS"], keyed(records)))
    worker.wait_counted(10_000, timeout=120)
    assert worker.get_json("/api/v1/logs/groups", limit=1)["total"] == 10_000

    page = open_page(browser, worker.url)
    WebDriverWait(page, 20).until(lambda d: d.find_element(By.ID, "groups-range").text == f"1{DASH}50 of 10,000")
    first = [row["id"] for row in rows(page)]
    assert len(first) == PAGE and tab_count(page, "unresolved") == 10_000
    nodes = page.execute_script("return document.getElementsByTagName('*').length")
    assert nodes < 2500, f"{nodes} elements: one page of groups, not all of them"
    page.find_element(By.ID, "groups-next").send_keys(Keys.ENTER)
    WebDriverWait(page, 20).until(lambda d: d.find_element(By.ID, "groups-range").text == f"51{DASH}100 of 10,000")
    second = [row["id"] for row in rows(page)]
    assert len(second) == PAGE and not set(first) & set(second)
    page.find_element(By.ID, "groups-prev").send_keys(Keys.ENTER)
    WebDriverWait(page, 20).until(lambda d: d.find_element(By.ID, "groups-range").text == f"1{DASH}50 of 10,000")
    assert [row["id"] for row in rows(page)] == first
    page.find_element(By.ID, "group-q").send_keys(f"zone {zone(4321)}")
    WebDriverWait(page, 20).until(lambda d: len(rows(d)) == 1)
    assert rows(page)[0]["title"] == f"cache miss in zone {zone(4321)} after 3 tries"
    assert page.find_element(By.ID, "groups-next").get_attribute("disabled") == "true"
    assert csp_violations(page) == []


def test_a_groups_latest_event_shows_its_breadcrumbs_as_text_oldest_first(page: Any, worker: Any) -> None:
    crumbs = [{"timestamp": f"2026-12-06T10:00:0{n}.000Z", "level": level, "logger": "shop", "message": message}
              for n, (level, message) in enumerate([("DEBUG", "cart loaded"), ("INFO", HOSTILE)])]
    send(worker, log_record("ui-crumbs", "ERROR", "checkout failed", breadcrumbs=crumbs))
    WebDriverWait(page, 20).until(lambda d: row_of(d, "ui-crumbs"))
    open_by_keyboard(page, "ui-crumbs")
    WebDriverWait(page, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#group-events li details"))
    items = page.find_elements(By.CSS_SELECTOR, "#group-events li details ol.breadcrumbs li")
    assert [item.text for item in items] == ["2026-12-06 10:00:00.000 DEBUG shop: cart loaded",
                                            f"2026-12-06 10:00:01.000 INFO shop: {HOSTILE}"]
    assert page.execute_script("return window.__xss") is None and csp_violations(page) == []
