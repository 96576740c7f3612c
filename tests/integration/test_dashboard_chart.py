"""The dashboard's chart in real headless Chromium: ranges, local-time axis, hover and keyboard values, retention.

Counts are injected at known minutes (3 minutes, 3 hours and 20 hours ago); the browser runs in
India's time zone (UTC+5:30), so axis labels in UTC would be caught.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from logmonitor.timestamps import iso_timestamp
from tests.fixtures.traffic import log_record
from tests.integration.test_dashboard import send

ZONE = "Asia/Kolkata"
HOSTILE = '<img src=x onerror="window.__xss=1">'
RANGES = {"15 m": (15, 60, 2), "1 h": (60, 60, 10), "6 h": (360, 60, 60), "24 h": (1440, 300, 180)}
"""Button → (minutes fetched, seconds per bucket, minutes between time-axis labels)."""


def minute_ago(seconds: float) -> int:
    """The start of the minute ``seconds`` ago."""
    return int((time.time() - seconds) // 60 * 60)


def records_at(start: int, service: str, level: str, n: int) -> list[dict[str, Any]]:
    """``n`` records of ``service`` within the minute starting at ``start``."""
    return [{**log_record(service, level, f"{service} failed {i}"), "timestamp": iso_timestamp(start + 5 + i)}
             for i in range(n)]


class Injected:
    """The known counts: chart-a 7 errors 3 minutes ago, 5 three hours ago, 6 twenty hours ago; chart-b 4 CRITICAL."""

    def __init__(self) -> None:
        self.recent = minute_ago(180)
        self.b_minute = self.recent - 120
        self.hours_ago = minute_ago(3 * 3600)
        self.day_ago = minute_ago(20 * 3600)
        self.records = [
            *records_at(self.recent, "chart-a", "ERROR", 7), *records_at(self.b_minute, "chart-b", "CRITICAL", 4),
            *records_at(self.hours_ago, "chart-a", "ERROR", 5), *records_at(self.day_ago, "chart-a", "ERROR", 6),
            *records_at(self.recent, "chart-quiet", "INFO", 10), *records_at(self.recent, HOSTILE, "ERROR", 1),
        ]


@pytest.fixture(scope="module")
def injected() -> Injected:
    return Injected()


@pytest.fixture(scope="module")
def worker(module_worker: Any, injected: Injected) -> Any:
    send(module_worker, *injected.records)
    module_worker.wait_counted(len(injected.records))
    return module_worker


def open_dashboard(browser: Any, url: str) -> Any:
    """The dashboard in ``ZONE`` with no stored range, once the chart has drawn."""
    browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ZONE})
    browser.get(url + "/")
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#chart text.tick.x"))
    return browser


@pytest.fixture
def page(browser: Any, worker: Any) -> Iterator[Any]:
    yield open_dashboard(browser, worker.url)
    browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ""})  # the session's other modules


def local(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, ZoneInfo(ZONE)).strftime("%H:%M")


def bucket_label(epoch: int, step: int) -> str:
    """How the read-out names the bucket holding ``epoch``."""
    start = epoch // step * step
    return local(start) if step == 60 else f"{local(start)}\u2013{local(start + step)}"  # an en dash


def choose(page: Any, button: str) -> None:
    """Click a range button and wait until the chart drew that range."""
    minutes = RANGES[button][0]
    page.find_element(By.XPATH, f"//div[@id='chart-ranges']/button[normalize-space()='{button}']").click()
    wait_for_range(page, minutes)


def wait_for_range(page: Any, minutes: int) -> None:
    name = f"{minutes} minutes" if minutes < 60 else f"{minutes // 60} hour"
    WebDriverWait(page, 15).until(lambda d: name in d.find_element(By.ID, "chart-title").text)
    WebDriverWait(page, 15).until(lambda d: minutes in fetched_minutes(d))


def fetched_minutes(page: Any) -> list[int]:
    """The ``minutes`` of every series request the page made, in order."""
    urls = page.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/logs/series'))")
    return [int(parse_qs(urlsplit(url).query)["minutes"][0]) for url in urls]


def pressed(page: Any) -> list[str]:
    return [button.text for button in page.find_elements(By.CSS_SELECTOR, "#chart-ranges button[aria-pressed=true]")]


def time_ticks(page: Any) -> list[tuple[str, int]]:
    script = "return [...document.querySelectorAll('#chart text.tick.x')].map(t => [t.textContent, +t.dataset.ms])"
    return [(label, ms // 1000) for label, ms in page.execute_script(script)]


def y_labels(page: Any) -> list[int]:
    script = "return [...document.querySelectorAll('#chart text.tick.y')].map(t => t.textContent)"
    return [int(text) for text in page.execute_script(script)]


def readout(page: Any) -> tuple[str, dict[str, int]]:
    """The read-out's time and each line's value."""
    time_text, values = page.execute_script(
        "return [document.getElementById('chart-readout-time').textContent,"
        " [...document.querySelectorAll('#chart-readout-values li[data-service]')]"
        ".map(li => [li.dataset.service, li.querySelector('.num').textContent])]")
    return time_text, {service: int(value) for service, value in values}


def peaks_by_hover(page: Any, service: str) -> dict[str, dict[str, int]]:
    """Hover the mouse over every point of ``service``'s line above zero; what the read-out says at each."""
    points = page.execute_script(
        """const chart = document.getElementById('chart');
        chart.scrollIntoView({block: 'center'});
        const line = [...chart.querySelectorAll('path')].find(p => p.dataset.service === arguments[0]);
        const matrix = chart.getScreenCTM();
        const baseline = Math.max(...[...line.getAttribute('d').matchAll(/[ML]([\\d.]+),([\\d.]+)/g)].map(m => +m[2]));
        return [...line.getAttribute('d').matchAll(/[ML]([\\d.]+),([\\d.]+)/g)]
          .filter(m => +m[2] < baseline - 0.5)
          .map(m => { const p = new DOMPoint(+m[1], +m[2]).matrixTransform(matrix); return [p.x, p.y]; });""",
        service)
    seen = {}
    for x, y in points:
        actions = ActionChains(page)  # to viewport coordinates: no rounding of the element's centre
        actions.w3c_actions.pointer_action.move_to_location(round(x), round(y))
        actions.perform()
        label, values = readout(page)
        seen[label] = values
    return seen


def test_the_series_of_a_day_comes_in_5_minute_buckets_with_the_services_past_top_summed(
    worker: Any, injected: Injected
) -> None:
    answer = worker.get_json("/api/v1/logs/series", minutes=1440, top=1)
    assert answer["bucket_seconds"] == 300 and answer["retained_since"] == answer["since"]
    assert list(answer["series"]) == ["chart-a"] and answer["services_omitted"] == 3
    assert sum(n for _, n in answer["series"]["chart-a"]["ERROR"]) == 18
    others = answer["others"]
    assert sum(n for _, n in others["CRITICAL"]) == 4 and sum(n for _, n in others["ERROR"]) == 1
    assert sum(n for _, n in others["INFO"]) == 10
    assert {len(points) for line in [*answer["series"].values(), others] for points in line.values()} == {288}


def test_each_range_fetches_its_minutes_and_labels_its_time_axis_in_local_time(page: Any) -> None:
    assert pressed(page) == ["1 h"], "one hour until the user chooses"
    for button, (minutes, step, tick_minutes) in RANGES.items():
        choose(page, button)
        assert fetched_minutes(page)[-1] == minutes and pressed(page) == [button]
        ticks = time_ticks(page)
        assert len(ticks) >= 3, ticks
        for label, epoch in ticks:
            wanted = local(epoch)
            if tick_minutes >= 60 and wanted == "00:00":
                wanted = datetime.fromtimestamp(epoch, ZoneInfo(ZONE)).strftime("%b %-d")  # midnight names the day
            assert label == wanted, (button, ticks)
            assert (epoch + 5 * 3600 + 1800) % (tick_minutes * 60) == 0, f"{button}: round local times, {ticks}"
        assert {b - a for (_, a), (_, b) in pairwise(ticks)} == {tick_minutes * 60}
        span = ticks[-1][1] - ticks[0][1]
        assert minutes * 60 - 2 * tick_minutes * 60 <= span <= minutes * 60, f"{button}: ticks cover the range"
        title = page.find_element(By.ID, "chart-title").text
        assert ("per minute" if step == 60 else "per 5 minutes") in title
        labels = y_labels(page)
        assert labels[0] == 0 and len(labels) == 5 and len({b - a for a, b in pairwise(labels)}) == 1, labels
        assert labels[-1] >= 7, "the axis reaches the highest count"


def test_hover_shows_the_time_and_each_services_count_of_that_minute(page: Any, injected: Injected) -> None:
    seen = peaks_by_hover(page, "chart-a")
    assert seen == {local(injected.recent): {"chart-a": 7, "chart-b": 0, HOSTILE: 1}}
    seen = peaks_by_hover(page, "chart-b")
    assert seen == {local(injected.b_minute): {"chart-a": 0, "chart-b": 4, HOSTILE: 0}}
    choose(page, "6 h")
    seen = peaks_by_hover(page, "chart-a")
    assert {label: values["chart-a"] for label, values in seen.items()} == {
        local(injected.recent): 7, local(injected.hours_ago): 5}
    choose(page, "24 h")
    seen = peaks_by_hover(page, "chart-a")
    assert {label: values["chart-a"] for label, values in seen.items()} == {
        bucket_label(injected.recent, 300): 7, bucket_label(injected.hours_ago, 300): 5,
        bucket_label(injected.day_ago, 300): 6}
    assert page.execute_script("return window.__xss") is None


def test_keyboard_chooses_a_range_and_reads_the_chart_point_by_point(page: Any, injected: Injected) -> None:
    button = page.find_element(By.XPATH, "//div[@id='chart-ranges']/button[normalize-space()='15 m']")
    page.execute_script("arguments[0].focus()", button)
    page.switch_to.active_element.send_keys(Keys.SPACE)
    wait_for_range(page, 15)
    assert fetched_minutes(page)[-1] == 15 and pressed(page) == ["15 m"]
    page.switch_to.active_element.send_keys(Keys.TAB)  # on to "1 h"
    page.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for_range(page, 60)
    chart = page.find_element(By.ID, "chart")
    page.execute_script("arguments[0].focus()", chart)
    chart = page.switch_to.active_element
    chart.send_keys(Keys.END)
    assert readout(page)[0] in (local(minute_ago(0)), local(minute_ago(60))), "End is the newest minute"
    for _ in range(60):
        if readout(page)[0] == local(injected.recent):
            break
        chart.send_keys(Keys.ARROW_LEFT)
    assert readout(page) == (local(injected.recent), {"chart-a": 7, "chart-b": 0, HOSTILE: 1})
    chart.send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    assert readout(page) == (local(injected.b_minute), {"chart-a": 0, "chart-b": 4, HOSTILE: 0})
    chart.send_keys(Keys.ESCAPE)
    assert not page.find_element(By.ID, "chart-readout").is_displayed()


def test_the_chosen_range_is_kept_across_reloads(page: Any) -> None:
    choose(page, "24 h")
    page.refresh()
    WebDriverWait(page, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#chart text.tick.x"))
    assert pressed(page) == ["24 h"] and fetched_minutes(page)[0] == 1440, "the first request already asks for 24 h"


def test_the_chart_has_a_text_alternative_and_a_legend(page: Any, injected: Injected) -> None:
    choose(page, "24 h")
    chart = page.find_element(By.ID, "chart")
    assert chart.get_attribute("aria-describedby") == "chart-summary" and chart.get_attribute("tabindex") == "0"
    summary = page.find_element(By.ID, "chart-summary").get_attribute("textContent")
    assert "Errors per 5 minutes by service, last 24 hours" in summary
    assert f"chart-a: 18 errors, most 7 at {bucket_label(injected.recent, 300)}." in summary
    assert "chart-b: 4 errors" in summary and "chart-quiet" not in summary
    legend = page.execute_script("return [...document.querySelectorAll('#legend li')].map(li => li.textContent)")
    assert sorted(legend) == sorted(["chart-a", "chart-b", HOSTILE]), "one line per service with errors"
    assert not page.find_element(By.ID, "chart-note").is_displayed(), "24 h of counts are kept by default"
    severe = [entry for entry in page.get_log("browser") if entry["level"] == "SEVERE"]
    assert not [entry for entry in severe if "Content Security Policy" in entry["message"]], severe


def test_a_range_longer_than_the_window_retention_says_so(
    start_worker: Any, browser: Any, injected: Injected
) -> None:
    short = start_worker(LOGMONITOR_WINDOW_RETENTION="2h")
    short.wait_healthy()
    send(short, *injected.records)
    short.wait_counted(len(injected.records))
    answer = short.get_json("/api/v1/logs/series", minutes=360)
    kept_from = answer["retained_since"] // 1000
    assert time.time() - 2 * 3600 - 120 <= kept_from <= time.time() - 2 * 3600 + 60
    points = answer["series"]["chart-a"]["ERROR"]
    assert points[0][0] // 1000 <= kept_from < points[0][0] // 1000 + 60 and len(points) <= 122
    assert sum(n for _, n in points) == 7, "the counts of 3 h ago are past the retention"
    try:
        page = open_dashboard(browser, short.url)
        choose(page, "6 h")
        WebDriverWait(page, 10).until(lambda d: d.find_element(By.ID, "chart-note").is_displayed())
        note = page.find_element(By.ID, "chart-note").text
        assert any(f"kept only since {local(moment)} " in note for moment in (kept_from, kept_from + 60)), note
        assert page.find_elements(By.CSS_SELECTOR, "#chart rect.unretained"), "the part without counts is shaded"
    finally:
        browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": ""})
