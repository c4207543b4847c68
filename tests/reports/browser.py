"""Headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium, for the
report's page tests. :func:`chromium` yields a driver with a fresh profile and no network
features; tests skip (saying why) where the browser or Selenium is not installed."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900")


def require_chromium() -> None:
    if not Path(CHROMIUM).exists() or not (Path(DRIVER).exists() or shutil.which("chromedriver")):
        pytest.skip("Debian's chromium and chromium-driver are not installed (scripts/setup.sh installs them as root)")
    pytest.importorskip("selenium", reason="selenium is not installed (the dev extra has it)")


@contextlib.contextmanager
def chromium():
    """A Selenium Chrome driver on /usr/bin/chromium with a throwaway --user-data-dir."""
    require_chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="egym-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER if Path(DRIVER).exists() else shutil.which("chromedriver")),
                              options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
