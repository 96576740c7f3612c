"""Screenshot of a running dashboard in headless Chromium: ``python -m tools.screenshot URL OUT.png``.

It starts nothing: point it at a worker that has data (``make run`` for the demo services), e.g.
``python -m tools.screenshot http://127.0.0.1:5004/ docs/dashboard.png``. With ``--token`` (or
``LOGMONITOR_AUTH_TOKEN``) every request carries it as the browser's basic-auth header would; with
``--service`` (README: ``--service payment``) the groups are those of that service, beside its releases.
Needs Debian's ``chromium`` and ``chromium-driver`` and the test extra (selenium).
"""

from __future__ import annotations

import argparse
import base64
import os
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SETTLE_SECONDS = 1.0
"""After the groups and the chart have drawn: the totals and alerts of the same refresh."""


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the dashboard, e.g. http://127.0.0.1:5004/")
    parser.add_argument("out", help="the PNG to write")
    parser.add_argument("--token", default=os.environ.get("LOGMONITOR_AUTH_TOKEN"), help="the API token, if any")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1100)
    parser.add_argument("--service", help="show this service's groups and its releases")
    return parser.parse_args()


def screenshot(url: str, out: str, token: str | None, width: int, height: int, service: str | None = None) -> None:
    """Open ``url`` (with ``token`` as basic auth, if any), wait for the groups and the chart, save ``out``.

    With ``service``: choose it in the groups' filter first and wait for its releases too.
    """
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={width},{height}", "--lang=en-US", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        if token:
            basic = "Basic " + base64.b64encode(f"dashboard:{token}".encode()).decode()
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"Authorization": basic}})
        driver.get(url)
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#groups tr")
                   and d.find_elements(By.CSS_SELECTOR, "#chart path.line"))
        if service:
            wait.until(lambda d: service in [option.get_attribute("value")
                                             for option in Select(d.find_element(By.ID, "group-service")).options])
            Select(driver.find_element(By.ID, "group-service")).select_by_value(service)
            wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#releases tr") and all(
                cell.text == service for cell in d.find_elements(By.CSS_SELECTOR, "#groups td:nth-child(2)")))
        time.sleep(SETTLE_SECONDS)
        driver.save_screenshot(out)
    finally:
        driver.quit()


def main() -> None:
    """The command line."""
    arguments = _arguments()
    screenshot(arguments.url, arguments.out, arguments.token, arguments.width, arguments.height, arguments.service)
    print(f"wrote {arguments.out}")


if __name__ == "__main__":
    main()
