"""The ops console in a real headless Chromium: it shows a dead-lettered message and replays it."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.edges.store import Store

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TOKEN = "console-test-token-0123456789"
WAIT_SECONDS = 20
HOSTILE_ERROR = "unmapped code <b>X9</b> in whatsHappen"

SERVER_SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from twisted.internet import reactor
    from bridge.runtime.config import load_config
    from bridge.edges.http import StoreConsoleProvider, start_http
    from bridge.edges.metrics import BridgeMetrics
    from bridge.edges.store import Store
    from bridge.runtime.logging import configure_logging

    configure_logging("json", stream=sys.stderr)  # stdout carries only the port line
    store = Store.open(sys.argv[1])
    clock = lambda: datetime.now(UTC)
    provider = StoreConsoleProvider(store, clock=clock, instance="browser-test",
                                    coverage_fn=lambda: {"whatsHappen": "12/14 codes mapped"})
    config = load_config(None, {"HUB_BRIDGE__HTTP__PORT": "0", "HUB_BRIDGE__HTTP__ALLOW_REPLAY": "true",
                                "HUB_BRIDGE__HTTP__REPLAY_TOKEN": sys.argv[2]}, check=False)
    metrics = BridgeMetrics(snapshot=provider.metrics_snapshot)
    port = start_http(reactor, config.http, metrics=metrics, checks={"store_writable": store.is_writable},
                      provider=provider)
    print(port.getHost().port, flush=True)
    reactor.run()
    """
)


def browser_missing_reason() -> str | None:
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not binary.exists():
            return f"{binary} not installed (Debian packages chromium and chromium-driver)"
    return None


@pytest.fixture
def populated_store(tmp_path) -> tuple[Path, int]:
    """A store file with one dead-lettered outbound message and one delivered-side message."""
    path = tmp_path / "bridge.sqlite3"
    at = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    with Store.open(path) as store:
        store.accept_outbound(b"<fiche/>", adapter="legacy-xml", profile="default", received_at=at)
        dlq_id = store.dead_letter(b"<fiche><code>X9</code></fiche>", error=HOSTILE_ERROR,
                                   error_path="mappings/whats_happen.csv:12", source="translate", at=at,
                                   direction="out", adapter="legacy-xml", profile="default")
    return path, dlq_id


@pytest.fixture
def console_url(populated_store, tmp_path):
    """Start the HTTP server in a subprocess on a free loopback port; stop it by PID afterwards."""
    process = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(populated_store[0]), TOKEN],
                               stdout=subprocess.PIPE, stderr=open(tmp_path / "server.log", "wb"), text=True)  # noqa: SIM115 - the child writes it
    try:
        line = process.stdout.readline()  # the process prints the port or exits (pytest-timeout bounds it)
        if not line.strip().isdigit():
            pytest.fail(f"console server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
        yield f"http://127.0.0.1:{int(line)}/console"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def driver(tmp_path):
    """Headless Debian Chromium driven by Selenium, with a fresh profile and no background traffic."""
    reason = browser_missing_reason()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield browser
    finally:
        browser.quit()


def test_console_shows_and_replays_a_dead_letter(driver, console_url, populated_store, tmp_path):
    """The page lists the dead letter (error shown as text, not markup), and the replay button with the token empties the DLQ."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    store_path, dlq_id = populated_store
    wait = WebDriverWait(driver, WAIT_SECONDS)
    driver.get(console_url)
    row = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, f'#dlq tbody tr[data-dlq-id="{dlq_id}"]')))
    assert HOSTILE_ERROR in row.text and not driver.find_elements(By.CSS_SELECTOR, "#dlq b")
    driver.save_screenshot(str(tmp_path / "console-before.png"))
    driver.get(console_url + "#/mappings")  # coverage lives on the mapping page, without a stray "available" row
    wait.until(ec.text_to_be_present_in_element((By.ID, "coverage"), "12/14 codes mapped"))
    assert "available" not in driver.find_element(By.ID, "coverage").text
    driver.get(console_url + "#/")
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, f'button[data-dlq-id="{dlq_id}"]')))

    driver.find_element(By.ID, "replay-token").send_keys(TOKEN)
    driver.find_element(By.CSS_SELECTOR, f'button[data-dlq-id="{dlq_id}"]').click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "replay-status"), "replayed"))
    wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, f'#dlq tbody tr[data-dlq-id="{dlq_id}"]')))
    driver.save_screenshot(str(tmp_path / "console-after.png"))

    with Store.open(store_path, create=False) as store:
        entry = store.dlq_get(dlq_id)
        assert (0, True) == (store.dlq_size(), entry.replayed_at is not None)
        assert entry.replayed_as in [m.id for m in store.recent(10)]


def test_wrong_token_is_refused_in_the_page(driver, console_url, populated_store):
    """A wrong token shows the refusal and the dead letter stays queued."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    store_path, dlq_id = populated_store
    wait = WebDriverWait(driver, WAIT_SECONDS)
    driver.get(console_url)
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, f'button[data-dlq-id="{dlq_id}"]')))
    driver.find_element(By.ID, "replay-token").send_keys("not-the-token")
    driver.find_element(By.CSS_SELECTOR, f'button[data-dlq-id="{dlq_id}"]').click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "replay-status"), "refused"))
    with Store.open(store_path, create=False) as store:
        assert 1 == store.dlq_size()
