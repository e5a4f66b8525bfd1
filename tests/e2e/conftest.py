"""A real headless Chromium (selenium + the system chromedriver) on the web chat page served by the same processes
``make run`` starts (botstack), on free loopback ports. The browser is kept offline: every host name but
the loopback one resolves to nothing, so the widget's web-font request fails at once instead of leaving the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import botstack

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")


def _missing(message: str) -> None:
    """A missing system dependency fails in CI (make test installs it) and skips on a developer's machine."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _require(path: str, what: str) -> None:
    if not Path(path).exists():
        _missing(f"{what} not found at {path}: run scripts/install-system-deps.sh")


@pytest.fixture(scope="session")
def chat_page(tmp_path_factory):
    """The URL of the chat page, with the action server, Rasa and the page server running."""
    if not botstack.WEBCHAT_BUNDLE.is_file():
        if shutil.which("npm") is None:
            _missing("npm is missing, so is the chat widget bundle: run scripts/install-system-deps.sh, make web")
        subprocess.run(["bash", str(ROOT / "scripts" / "build-web.sh")], check=True)
    stack = botstack.acquire_test_stack(tmp_path_factory.mktemp("bot-stack"))
    stack.ensure_web()
    yield stack.settings.web_url
    botstack.release_test_stack()


@pytest.fixture
def browser(tmp_path):
    _require(CHROMIUM, "chromium")
    _require(CHROMEDRIVER, "chromedriver")
    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look for drivers online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-first-run",
        "--no-default-browser-check",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=Service(executable_path=CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log")),
        options=options,
    )
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
