"""A real browser for the report's tests: Debian's Chromium, headless, driven through its ChromeDriver."""

from __future__ import annotations

import contextlib
import os

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL_HINT = "install them with `apt-get install chromium chromium-driver` (as .ci/run does)"
# Without the background-networking switches Chromium keeps trying to reach Google's hosts, which a closed network
# refuses, many at a time.
SWITCHES = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1400",
)


@contextlib.contextmanager
def chromium():
    """A headless Chromium session (a selenium WebDriver), closed afterwards whatever happened."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"The report test renders the report in a real browser, but {', '.join(missing)} is missing. "
            f"Please {INSTALL_HINT}.",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for switch in SWITCHES:
        options.add_argument(switch)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
