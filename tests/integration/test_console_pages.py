"""Every page of the ops console in a real headless Chromium, over an hour of believable traffic.

The server (``console_server.py``, a subprocess) fills a store through the real translator and
store transitions, then serves the console with the live translator. Each test walks one page
and fails if the page logs a JavaScript error, shows an error, or shows nothing. One of the
stored frames carries markup in its free text: it must show as text, never run.

``UPDATE_CONSOLE_SCREENSHOTS=1`` writes the screenshots into ``docs/console/`` (see docs/console.md);
otherwise they go to the test's temporary directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bridge.app.clock import utc_now
from bridge.runtime.demo import demo_stamp

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).resolve().parent / "console_server.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 20
UPDATE = os.environ.get("UPDATE_CONSOLE_SCREENSHOTS") == "1"
GOOD_FRAME = (
    "NUM_DOSSIER=A26-999001\nDATE_APPEL=" + demo_stamp(utc_now()) +  # now: the console's bridge runs on the wall clock
    "\nNATURE=GAZ\nLIEU=DOM\nMOTIF=MALAISE\nNB_VICTIMES=V1\n"
    "TYPE_VICTIME=ADU\nNUMERO=3\nVOIE=Rue des Marins\nCOMMUNE=Bouaye\nINSEE=44018\nAPPELANT=Marie Dubois\n"
    "TEL=+33671830523\nQUALITE_APPELANT=FAM\nOBS=Odeur de gaz près de la chaudière\nDEMANDE_SP=N\n"
)


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """The console server over a filled store: ``(base_url, traffic)``; stopped by PID afterwards."""
    tmp = tmp_path_factory.mktemp("console")
    with open(tmp / "server.log", "wb") as log:  # the child keeps its own handle
        process = subprocess.Popen([sys.executable, str(SERVER), str(tmp / "bridge.sqlite3")], cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = process.stdout.readline()  # one JSON line, or EOF if the server died (pytest-timeout bounds it)
        if not line.startswith("{"):
            pytest.fail(f"console server did not start: {(tmp / 'server.log').read_text()[-2000:]}")
        traffic = json.loads(line)
        yield f"http://127.0.0.1:{traffic['port']}/console", traffic
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """Headless Debian Chromium (British English: 24-hour clock), its console log kept for the checks."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not binary.exists():
            pytest.skip(f"{binary} not installed (Debian packages chromium and chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--lang=en-GB", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(WAIT_SECONDS)
    try:
        yield browser
    finally:
        browser.quit()


def _wait(driver):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS)


def _open(driver, url: str, fragment: str, ready_css: str):
    """Load a page and wait until ``ready_css`` shows; returns the element."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.get(f"{url}#{fragment}")
    driver.refresh()  # a hash-only change would not reload the page: each test starts from a fresh load
    return _wait(driver).until(ec.visibility_of_element_located((By.CSS_SELECTOR, ready_css)))


def _check_page(driver, name: str, tmp_path: Path) -> None:
    """No JavaScript error, no error status, no injected markup ran, something shown; then the screenshot."""
    from selenium.webdriver.common.by import By

    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    assert driver.title == "hub-bridge ops console"  # the hostile frame would set it to "pwned"
    status = driver.find_element(By.ID, "status")
    assert "updated" in status.text and "error" not in (status.get_attribute("class") or ""), status.text
    page = driver.find_element(By.CSS_SELECTOR, ".page:not([hidden])")
    assert len(page.text.strip()) > 200, page.text
    assert "available" not in page.text.lower().split()  # the stray "available true" row is gone
    target = (ROOT / "docs" / "console" if UPDATE else tmp_path) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(target))
    assert target.stat().st_size > 10_000


def test_overview_shows_flow_charts_dead_letters_and_typed_messages(driver, console, tmp_path):
    """Gauges, three SVG charts with bars and points, the dead letters, last messages with their type."""
    from selenium.webdriver.common.by import By

    url, traffic = console
    _open(driver, url, "/", "#charts svg.chart")
    charts = driver.find_elements(By.CSS_SELECTOR, "#charts figure[data-chart]")
    assert [c.get_attribute("data-chart") for c in charts] == ["throughput", "latency", "dead-letters"]
    assert len(driver.find_elements(By.CSS_SELECTOR, "#charts [data-chart=throughput] rect.s-out")) > 5
    assert len(driver.find_elements(By.CSS_SELECTOR, "#charts [data-chart=latency] circle.s-mean")) > 5
    assert len(driver.find_elements(By.CSS_SELECTOR, "#charts [data-chart=dead-letters] rect.s-dead")) >= 1
    rows = driver.find_elements(By.CSS_SELECTOR, "#messages tbody tr[data-message-id]")
    assert len(rows) >= 20
    types = {r.find_elements(By.TAG_NAME, "td")[3].text for r in rows}
    assert {"RC-EDA", "EMSI"} <= types
    times = [r.find_elements(By.TAG_NAME, "td")[1].text for r in rows]
    assert all(":" in t and "T" not in t and "+00" not in t for t in times), times  # local, readable
    assert len(driver.find_elements(By.CSS_SELECTOR, "#dlq tbody tr[data-dlq-id]")) == len(traffic["dead_letters"])
    _check_page(driver, "overview", tmp_path)


def test_chart_window_switches_to_the_last_day(driver, console, tmp_path):
    """The "last day" tab redraws the three charts over half-hour buckets."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    url, _ = console
    _open(driver, url, "/", "#charts svg.chart")
    driver.find_element(By.CSS_SELECTOR, "[data-window=day]").click()
    _wait(driver).until(ec.text_to_be_present_in_element((By.ID, "charts"), "per 30 min"))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#charts svg.chart")) == 3
    _check_page(driver, "charts-day", tmp_path)


def test_case_timeline_shows_the_life_of_a_case_with_durations(driver, console, tmp_path):
    """Frame accepted → translated → published → RC-REF → answer, each with its time and the gap before it."""
    from selenium.webdriver.common.by import By

    url, traffic = console
    case_id = traffic["case_ids"][3]  # the 4th sheet asked for assistance: createCase + EMSI, answered
    _open(driver, url, f"/case/{case_id}", "#timeline li.tl")
    assert driver.find_element(By.ID, "case-id").text == case_id
    items = driver.find_elements(By.CSS_SELECTOR, "#timeline li.tl")
    text = driver.find_element(By.ID, "timeline").text
    for step in ("frame accepted from the LRM", "translated", "published (broker confirm)", "RC-REF received",
                 "answer received"):
        assert step in text
    assert len(items) >= 8 and "code(s) mapped" in text
    deltas = [i.find_element(By.CLASS_NAME, "tl-delta").text for i in items]
    assert deltas[0] == "start" and all(d.startswith("+") for d in deltas[1:])
    facts = driver.find_element(By.ID, "case-facts").text
    assert "→ RC-REF" in facts and "→ answer" in facts
    _check_page(driver, "case", tmp_path)


def test_message_page_shows_both_sides_marked_and_hostile_text_inert(driver, console, tmp_path):
    """The legacy bytes (decoded) and the Hub JSON side by side; mapped codes marked; markup shown as text."""
    from selenium.webdriver.common.by import By

    url, traffic = console
    message_id = traffic["hostile_message_id"]
    _open(driver, url, f"/message/{message_id}", "#legacy-body mark")
    legacy = driver.find_element(By.ID, "legacy-body")
    assert "<script>" in legacy.text and "onerror" in legacy.text
    assert not driver.find_elements(By.CSS_SELECTOR, "#legacy-body script, #legacy-body img, main img, main script")
    hub = driver.find_element(By.ID, "hub-body")
    assert '"createCase"' in hub.text and '"whatsHappen"' in hub.text
    legacy_marks = {m.text for m in driver.find_elements(By.CSS_SELECTOR, "#legacy-body mark.mark-code")}
    hub_marks = {m.text for m in driver.find_elements(By.CSS_SELECTOR, "#hub-body mark.mark-code")}
    assert "MALAISE" in legacy_marks and "M03.09" in hub_marks
    notes = driver.find_element(By.ID, "notes").text
    assert "lrm-alpha-nature" in notes and "lrm-alpha-motif.csv:" in notes
    assert "cp1252" in driver.find_element(By.ID, "legacy-caption").text
    _check_page(driver, "message", tmp_path)


def test_message_page_marks_a_fallback(driver, console, tmp_path):
    """A code no row maps (ZZZ) took the table's fallback, a field was dropped: both marked, with their notes."""
    from selenium.webdriver.common.by import By

    url, traffic = console
    # sheet n has NATURE = NATURES[n % 9]: sheet 8 has "ZZZ", which no row maps (the table's fallback applies)
    case_id = next(c for c in traffic["case_ids"] if c.endswith("-000008"))
    _open(driver, url, f"/case/{case_id}", "#case-messages tbody tr[data-message-id]")
    message_id = driver.find_element(By.CSS_SELECTOR, "#case-messages tbody tr[data-message-id]").get_attribute(
        "data-message-id")
    _open(driver, url, f"/message/{message_id}", "#legacy-body mark")
    fallback = driver.find_elements(By.CSS_SELECTOR, "#legacy-body mark.mark-fallback")
    assert [m.text for m in fallback] == ["ZZZ"]
    dropped = driver.find_elements(By.CSS_SELECTOR, "#legacy-body mark.mark-drop")
    assert [m.text for m in dropped] == ["CODE_POSTAL=44830"]  # the same sheet carries a field no profile key reads
    assert "CODE_POSTAL" in driver.find_element(By.CSS_SELECTOR, "#notes ul.drop").text
    assert "fallback 'C11.06.00' used" in driver.find_element(By.CSS_SELECTOR, "#notes tr.fallback").get_attribute(
        "title")
    _check_page(driver, "message-fallback", tmp_path)


def test_search_by_dossier_state_and_time_range(driver, console, tmp_path):
    """The form finds a case by LRM dossier number, filters by state, and says so when nothing matches."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    url, traffic = console
    dossier, case_id = traffic["dossiers"][3], traffic["case_ids"][3]
    _open(driver, url, "/search", "#search-form")
    driver.find_element(By.NAME, "dossier").send_keys(dossier)
    driver.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
    _wait(driver).until(ec.text_to_be_present_in_element((By.ID, "search-summary"), f"dossier = {dossier}"))
    rows = driver.find_elements(By.CSS_SELECTOR, "#search-results tbody tr[data-message-id]")
    assert len(rows) == 2 and all(case_id in r.text for r in rows), [r.text for r in rows]
    _check_page(driver, "search", tmp_path)

    _open(driver, url, "/search?state=published", "#search-results tbody tr")
    _wait(driver).until(ec.text_to_be_present_in_element((By.ID, "search-summary"), "state = published"))
    states = [r.find_elements(By.TAG_NAME, "td")[4].text
              for r in driver.find_elements(By.CSS_SELECTOR, "#search-results tbody tr[data-message-id]")]
    assert states and set(states) == {"published"}, states

    _open(driver, url, "/search?since=2001-01-01T00:00:00Z&until=2001-01-02T00:00:00Z", "#search-results tbody tr")
    assert "No message matches" in driver.find_element(By.ID, "search-results").text


def test_try_a_frame_translates_without_sending(driver, console, tmp_path):
    """A pasted frame shows the Hub payload it would make, the codes mapped; a broken one shows why it is refused."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    url, _ = console
    _open(driver, url, "/mappings", "#usage tbody tr")
    usage = driver.find_element(By.ID, "usage").text
    assert "lrm-alpha-nature" in usage
    assert len(driver.find_elements(By.CSS_SELECTOR, "#coverage tbody tr")) > 5
    box = driver.find_element(By.ID, "try-frame")
    driver.execute_script("arguments[0].value = arguments[1];", box, GOOD_FRAME)
    driver.find_element(By.CSS_SELECTOR, "#try-form button[type=submit]").click()
    _wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#try-result .try-ok")))
    result = driver.find_element(By.ID, "try-result").text
    assert "1 Hub message(s) would go out" in result and "C09.03.00" in result and "createCase" in result
    # typed text sent in the link's cp1252: read back intact, no encoding warning (documented derivations may show)
    assert "près de la chaudière" in result and "encoding-suspect" not in result and "value-altered" not in result
    _check_page(driver, "try-a-frame", tmp_path)
    driver.execute_script("document.getElementById('usage-title').scrollIntoView();")
    _check_page(driver, "mappings", tmp_path)

    driver.execute_script("arguments[0].value = arguments[1];", box, "NATURE=GAZ\n")
    driver.find_element(By.CSS_SELECTOR, "#try-form button[type=submit]").click()
    _wait(driver).until(ec.presence_of_element_located((By.CSS_SELECTOR, "#try-result .try-refused")))
    assert "NUM_DOSSIER" in driver.find_element(By.ID, "try-result").text


def test_unknown_message_and_case_say_so(driver, console, tmp_path):
    """A message or case that is not in the store gives a clear sentence, not a blank page or a JS error."""
    from selenium.webdriver.common.by import By

    url, _ = console
    _open(driver, url, "/message/999999", ".page[data-page=message] .not-found")
    assert "no message with id 999999" in driver.find_element(By.CSS_SELECTOR, ".not-found").text
    _open(driver, url, "/case/fr.health.samu440.NOPE", ".page[data-page=case] .not-found")
    assert "no message of case" in driver.find_element(By.CSS_SELECTOR, ".not-found").text
    assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "404" not in e["message"]] == []
