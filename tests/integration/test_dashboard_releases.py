"""The dashboard's releases and traces in real headless Chromium against a real worker and broker (issue 28).

A service's release list, the groups' release filter and the "new in this release" marker; a
group's latest event linking its trace to a timeline by service. Release names, services and
messages are producer-controlled: rendered as text only.
"""

from __future__ import annotations

from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.fixtures.traffic import log_record
from tests.integration.test_dashboard import send
from tests.integration.test_dashboard_groups import HOSTILE, csp_violations, detail_shown, open_page, rows

TRACE = "0af7651916cd43dd8448eb211c80319c"
HOSTILE_RELEASE = '<b onmouseover="window.__xss=2">3.0</b>'
RELEASES = """return [...document.querySelectorAll('#releases tr')].map(r => ({
  release: r.dataset.release, cells: [...r.cells].map(c => c.textContent)}))"""
MARKED = """return [...document.querySelectorAll('#groups tr')].map(r => ({
  kind: r.querySelector('a').textContent.split(':')[0],
  marker: (r.querySelector('.new-release') || {}).textContent || null}))"""


def failure(service: str, kind: str, n: int, release: str, **fields: Any) -> dict[str, Any]:
    exception = {"type": f"{kind}Error", "message": f"call {n} failed", "stacktrace": f'File "{kind}.py", line 3'}
    return log_record(service, "ERROR", f"{kind} call {n} failed", exception=exception, release=release,
                      environment="production", **fields)


@pytest.fixture(scope="module")
def worker(module_worker: Any) -> Any:
    """ui-cart: TimeoutError in 1.0 and 2.0 (once in trace TRACE), ParseError new in 2.0; ui-ledger fails in TRACE."""
    records = [failure("ui-cart", "Timeout", n, "1.0") for n in range(2)]
    send(module_worker, *records)
    module_worker.wait_counted(len(records))
    later = [failure("ui-cart", "Timeout", 7, "2.0", trace_id=TRACE), failure("ui-cart", "Parse", 1, "2.0"),
             log_record("ui-ledger", "CRITICAL", HOSTILE, trace_id=TRACE, release=HOSTILE_RELEASE)]
    send(module_worker, *later)
    module_worker.wait_counted(len(records) + len(later))
    return module_worker


def choose_service(browser: Any, service: str) -> None:
    WebDriverWait(browser, 20).until(
        lambda d: service in [o.get_attribute("value") for o in Select(d.find_element(By.ID, "group-service")).options])
    Select(browser.find_element(By.ID, "group-service")).select_by_value(service)


def test_a_services_releases_filter_its_groups_and_mark_those_new_in_the_release(browser: Any, worker: Any) -> None:
    page = open_page(browser, worker.url)
    choose_service(page, "ui-cart")
    WebDriverWait(page, 20).until(lambda d: len(d.execute_script(RELEASES)) == 2)
    listed = page.execute_script(RELEASES)
    assert [row["release"] for row in listed] == ["2.0", "1.0"], "newest first"
    assert [row["cells"][3:] for row in listed] == [["2", "1", "0"], ["2", "1", "0"]], "errors, new, came back"
    assert [o.text for o in Select(page.find_element(By.ID, "group-release")).options] == ["all", "2.0", "1.0"]
    WebDriverWait(page, 20).until(lambda d: len(rows(d)) == 2)
    marked = {row["kind"]: row["marker"] for row in page.execute_script(MARKED)}
    assert marked == {"ParseError": "new in 2.0", "TimeoutError": None}, "without a filter: new in the newest release"

    page.find_element(By.CSS_SELECTOR, "#releases tr[data-release='1.0'] button").click()
    WebDriverWait(page, 20).until(lambda d: len(rows(d)) == 1)
    assert Select(page.find_element(By.ID, "group-release")).first_selected_option.text == "1.0"
    assert page.execute_script(MARKED) == [{"kind": "TimeoutError", "marker": "new in 1.0"}]
    assert "group-release" not in page.current_url and "release=1.0" not in page.current_url

    choose_service(page, "ui-ledger")
    WebDriverWait(page, 20).until(lambda d: [row["release"] for row in d.execute_script(RELEASES)] == [HOSTILE_RELEASE])
    assert page.execute_script("return window.__xss") is None and not csp_violations(page)


def test_a_groups_latest_event_opens_its_trace_as_a_timeline_by_service(browser: Any, worker: Any) -> None:
    group = next(g for g in worker.get_json("/api/v1/logs/groups", service="ui-cart")["groups"]
                 if g["exception_type"] == "TimeoutError")
    page = open_page(browser, worker.url, f"#group/{group['id']}")
    detail_shown(page)
    WebDriverWait(page, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#group-events .trace-link"))
    fields = page.execute_script("return [...document.querySelectorAll('#group-fields dt')].map(dt => [dt.textContent,"
                                 " dt.nextElementSibling.textContent])")
    assert ["Releases", "2.0 (1), 1.0 (2)"] in fields and ["First release", "1.0"] in fields
    (link,) = page.find_elements(By.CSS_SELECTOR, "#group-events .trace-link")
    assert link.text == f"Trace {TRACE}"
    link.click()
    WebDriverWait(page, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#trace-timeline circle.mark")) == 2)
    marks = page.execute_script("return [...document.querySelectorAll('#trace-timeline circle.mark')]"
                                ".map(c => [c.dataset.service, c.getBBox().y])")
    assert sorted(service for service, _y in marks) == ["ui-cart", "ui-ledger"]
    assert marks[0][1] != marks[1][1], "a lane per service"
    lanes = page.execute_script("return [...document.querySelectorAll('#trace-timeline .lane-label')]"
                                ".map(t => t.textContent)")
    assert sorted(lanes) == ["ui-cart", "ui-ledger"]
    listed = page.find_element(By.ID, "trace-errors").text
    assert HOSTILE in listed and "ui-ledger" in listed, "the hostile message as text"
    assert page.execute_script("return document.querySelectorAll('#trace-panel img').length") == 0
    assert page.execute_script("return window.__xss") is None and not csp_violations(page)
