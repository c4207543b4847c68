"""Headless Chromium for the report: screenshots (``egym report --screenshot``) and the page tests.

Uses Debian's ``chromium`` and ``chromium-driver`` (``scripts/setup.sh`` installs them when
root) through Selenium, with a fresh ``--user-data-dir`` per launch and every background network
feature off, so opening a report never reaches beyond the machine.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900")


def missing() -> str | None:
    """Why a browser cannot be started here, or ``None`` when it can."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (Debian package chromium; scripts/setup.sh installs it as root)"
    if not (Path(DRIVER).exists() or shutil.which("chromedriver")):
        return "chromedriver is missing (Debian package chromium-driver; scripts/setup.sh installs it as root)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the Python package selenium is missing (pip install selenium; the dev extra has it)"
    return None


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A Selenium driver on headless Chromium with a throwaway profile (console messages are
    kept: ``driver.get_log("browser")``). Raises ``OSError`` saying what is missing."""
    why = missing()
    if why:
        raise OSError(f"cannot start headless Chromium: {why}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="egym-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = DRIVER if Path(DRIVER).exists() else shutil.which("chromedriver")
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(page: str | Path, png: str | Path, width: int = 1280, height: int = 1400) -> Path:
    """Open the local HTML file ``page`` in headless Chromium and save a ``width x height``
    screenshot of its top to ``png``."""
    out = Path(png)
    out.parent.mkdir(parents=True, exist_ok=True)
    with chromium() as driver:
        driver.set_window_size(width, height)
        driver.get(Path(page).resolve().as_uri())
        driver.save_screenshot(str(out))
    return out
