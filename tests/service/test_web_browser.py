"""The web app in a real browser: Debian's chromium driven by Playwright (never a
downloaded browser) against a real server (``web_server.py``).

The main flows: log in with a token (a wrong one is refused); filter the offers in place;
load a fleet file into the editor, validate it (a bad one names the field), plan it and
watch the progress to the plan view, with its assignments and Plotly charts drawn; run risk
on a saved plan and read its view; compare two saved plans; plan commitments and value a
deal. Each main view is saved as a screenshot in ``ARBITER_SCREENSHOTS`` (default: a
folder of pytest's temporary directory); CI keeps them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import arbiter

pytest.importorskip("plotly")
pytest.importorskip("uvicorn")
pytest.importorskip("playwright.sync_api")

from playwright import sync_api
from web_server import ANYWHERE, FLEET, Server, module_fixtures

server, planner = module_fixtures()
CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
JOB_TIMEOUT_MS = 90_000

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="no chromium: install Debian's chromium (apt-get install chromium)"
    ),
    pytest.mark.xdist_group("web-browser"),
]

expect = sync_api.expect


@pytest.fixture(scope="module")
def saved(server: Server, planner: str) -> tuple[str, str]:
    """Two plans saved by plan jobs: the editor's fleet, and the same with its 70B
    fine-tune allowed anywhere."""
    return server.plan(planner), server.plan(planner, ANYWHERE)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go."""
    wanted = os.environ.get("ARBITER_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    assert CHROMIUM is not None
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def _context(browser: Any, server: Server, secret: str | None) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server.url)
    context.set_default_timeout(20_000)
    if secret is not None:
        cookie = {"name": "arbiter_token", "value": secret, "url": server.url}
        context.add_cookies([{**cookie, "httpOnly": True, "sameSite": "Strict"}])
    return context


@pytest.fixture
def page(browser: Any, server: Server, planner: str) -> Iterator[Any]:
    """A page of a browser logged in as the planner."""
    context = _context(browser, server, planner)
    yield context.new_page()
    context.close()


def _wait_for_result(page: Any) -> None:
    """On a job's page: the progress until the job is done, then its result."""
    assert re.search(r"/jobs/[\w-]+$", page.url), page.url
    expect(page.locator("#job-progress")).to_be_visible()
    link = page.locator("#result-link")
    link.wait_for(timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#job-status")).to_have_text("succeeded")
    link.click()
    page.wait_for_load_state()


def _charts_drawn(page: Any, *divs: str) -> None:
    for div in divs:
        expect(page.locator(f"#{div}.js-plotly-plot")).to_have_count(1)
        expect(page.locator(f"#{div} .main-svg").first).to_be_visible()


def test_log_in_with_a_token(browser: Any, server: Server, planner: str, shots: Path):
    context = _context(browser, server, None)
    page = context.new_page()
    page.goto("/plans")
    assert "/login?next=%2Fplans" in page.url
    page.fill("#token", "arb_this-is-not-a-token")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_contain_text("not valid")
    page.fill("#token", planner)
    page.click("#login-button")
    page.wait_for_url(f"{server.url}/plans")
    page.goto("/")
    expect(page.locator("#catalog .metric").first).to_contain_text("Offers")
    expect(page.locator("#catalog-version")).to_contain_text("Catalog version default")
    expect(page.locator("nav .who")).to_contain_text("planner")
    page.screenshot(path=shots / "home.png", full_page=True)
    page.click("text=Log out")
    page.wait_for_url(re.compile(r"/login$"))
    page.goto("/")
    assert "/login" in page.url
    context.close()


def test_offers_filter_in_place(page: Any, server: Server, shots: Path):
    every = len(arbiter.offers(config=server.settings))
    matching = len(arbiter.offers(providers=["aws"], accelerators=["H100"], config=server.settings))
    page.goto("/offers")
    page.fill("#filter-provider", "aws")
    page.fill("#filter-accelerator", "H100")
    paging = page.locator("#offers-table .paging").first
    expect(paging).to_contain_text(f"{matching:,} offers; 1\u2013")
    page.wait_for_url(re.compile(r"provider=aws.*accelerator=H100|accelerator=H100.*provider=aws"))
    assert set(page.locator("#offers tbody tr td:first-child").all_inner_texts()) == {"aws"}
    expect(page.locator("#offers tbody tr").first).to_contain_text("H100-SXM")
    page.fill("#filter-provider", "awz")
    expect(page.locator("#offers-error")).to_contain_text("Did you mean 'aws'?")
    page.fill("#filter-provider", "")
    page.fill("#filter-accelerator", "")
    expect(paging).to_contain_text(f"{every:,} offers; 1\u201350 shown")
    page.locator(".next-page").first.click()
    expect(paging).to_contain_text(f"{every:,} offers; 51\u2013100 shown")
    page.screenshot(path=shots / "offers.png")


def test_load_validate_plan_and_view_the_plan(page: Any, shots: Path, tmp_path: Path):
    page.goto("/fleets/new")
    page.fill("#fleet-text", FLEET.replace("kind: finetune", "kind: fine-tune", 1))
    page.click("#validate-button")
    message = page.locator("#validation-message")
    expect(message).to_contain_text("field workloads[0].kind")
    fleet_file = tmp_path / "two-finetunes.yaml"
    fleet_file.write_text(FLEET, encoding="utf-8")
    page.set_input_files("#fleet-file", str(fleet_file))
    expect(message).to_have_text("valid: 2 workloads")
    expect(page.locator("#fleet-text")).to_have_value(FLEET)
    page.select_option("#sweep", "vendor")
    page.screenshot(path=shots / "fleet-editor.png", full_page=True)
    page.click("#plan-button")
    page.wait_for_url(re.compile(r"/jobs/[\w-]+$"))
    page.screenshot(path=shots / "job-progress.png")
    _wait_for_result(page)
    assert re.search(r"/plans/\w+$", page.url), page.url
    _charts_drawn(page, "chart-shares", "chart-baselines", "chart-sweep")
    rows = page.locator("section:has(h2:text-is('Assignments')) tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("lora-")
    expect(page.locator("#audit")).to_contain_text("Age (days)")
    page.screenshot(path=shots / "plan.png", full_page=True)


def test_run_risk_on_a_saved_plan(page: Any, saved: tuple[str, str], shots: Path):
    page.goto(f"/plans/{saved[0]}")
    page.click("#run-risk summary")
    page.fill("#samples", "40")
    page.click("#risk-button")
    _wait_for_result(page)
    assert re.search(r"/risk/[\w-]+$", page.url), page.url
    _charts_drawn(page, "chart-cost", "chart-shares")
    cost = page.locator("#cost")
    expect(cost).to_contain_text("P95")
    expect(cost).to_contain_text("CVaR95")
    expect(page.locator(".headline")).to_contain_text("Optionality value")
    page.screenshot(path=shots / "risk.png", full_page=True)


def test_compare_two_saved_plans(page: Any, saved: tuple[str, str], shots: Path):
    a, b = saved
    page.goto("/compare")
    page.select_option("#compare-a", a)
    page.select_option("#compare-b", b)
    page.click("#compare-button")
    expect(page.locator("#compare-totals")).to_contain_text(a[:12])
    expect(page.locator("#compare-totals")).to_contain_text(b[:12])
    expect(page.locator("#compare-assignments")).to_contain_text("lora-8b-codegen")
    expect(page.locator("#compare-assignments tr.changed")).to_contain_text("lora-70b-support")
    expect(page.locator("#shares tbody tr").first).to_be_visible()
    page.screenshot(path=shots / "compare.png", full_page=True)


def test_plan_commitments_and_value_a_deal(page: Any, shots: Path):
    page.goto("/procure")
    page.click("#start-button")
    _wait_for_result(page)
    _charts_drawn(page, "chart-commitments")
    page.screenshot(path=shots / "procure.png", full_page=True)
    page.goto("/deals")
    page.fill("#samples", "0")
    page.click("#start-button")
    _wait_for_result(page)
    _charts_drawn(page, "chart-lock-in")
    page.screenshot(path=shots / "deal.png", full_page=True)
