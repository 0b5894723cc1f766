"""The web app's pages over HTTP, without a browser, on a real server (``web_server.py``):
the login and its cookie, pages behind it, the static files (htmx as its PROVENANCE note
says, plotly.js from the plotly package), the offer filters, the fleet validator, a role
that may not plan, the plan and comparison pages of plans saved by jobs."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("plotly")
pytest.importorskip("uvicorn")

from web_server import ANYWHERE, FLEET, REPO, Server, module_fixtures

from arbiter.service.web_auth import local_path

pytestmark = pytest.mark.xdist_group("web-pages")
server, planner = module_fixtures()

STATIC = REPO / "src" / "arbiter" / "service" / "static"
BAD_KIND = FLEET.replace("kind: finetune", "kind: fine-tune", 1)


@pytest.fixture(scope="module")
def site(server: Server, planner: str) -> Iterator[httpx.Client]:
    with server.client(planner) as client:
        yield client


@pytest.fixture(scope="module")
def two_plans(server: Server, planner: str) -> tuple[str, str]:
    return server.plan(planner), server.plan(planner, ANYWHERE)


def _error(html: str) -> str:
    found = re.search(r'class="message error"[^>]*>(.*?)</p>', html, re.DOTALL)
    return found.group(1) if found else ""


def test_every_page_but_the_login_asks_for_a_token(server: Server):
    with httpx.Client(base_url=server.url) as anonymous:
        for path in ("/", "/offers", "/fleets/new", "/plans", "/compare", "/procure", "/deals"):
            answer = anonymous.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == f"/login?next={path.replace('/', '%2F')}"
        # htmx is told to load the login page rather than swap it into a fragment
        hx = anonymous.get("/offers", headers={"HX-Request": "true"})
        assert hx.status_code == 401
        assert hx.headers["HX-Redirect"].startswith("/login?next=")
        assert anonymous.get("/login").status_code == 200


def test_login_sets_a_strict_http_only_cookie_and_logout_clears_it(server: Server, planner: str):
    with httpx.Client(base_url=server.url) as browser:
        wrong = browser.post("/login", data={"token": "arb_not-a-token", "next": "/"})
        assert wrong.status_code == 401
        assert "not valid" in _error(wrong.text)
        assert "set-cookie" not in wrong.headers
        ok = browser.post("/login", data={"token": planner, "next": "/offers?provider=aws"})
        assert ok.status_code == 303
        assert ok.headers["location"] == "/offers?provider=aws"
        cookie = ok.headers["set-cookie"]
        assert cookie.startswith(f"arbiter_token={planner};")
        for attribute in ("HttpOnly", "Path=/", "SameSite=strict"):
            assert attribute.lower() in cookie.lower()
        home = browser.get("/")
        assert home.status_code == 200
        assert "Catalog version <b>default</b>" in home.text
        out = browser.get("/logout")
        assert out.status_code == 303
        assert 'arbiter_token=""' in out.headers["set-cookie"]
        assert browser.get("/").status_code == 303


def test_the_page_after_login_is_never_another_site():
    assert local_path("/plans/3f2a?x=1") == "/plans/3f2a?x=1"
    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "",
        None,
        "plans",
    ):
        assert local_path(target) == "/"


def test_static_files_are_served_from_the_package(site: httpx.Client):
    htmx = site.get("/static/htmx.min.js")
    assert htmx.status_code == 200
    digest = hashlib.sha256(htmx.content).hexdigest()
    assert digest in (STATIC / "PROVENANCE.md").read_text("utf-8")
    assert digest == hashlib.sha256((STATIC / "htmx.min.js").read_bytes()).hexdigest()
    plotly_js = site.get("/static/plotly.min.js")
    assert plotly_js.status_code == 200
    assert b"plotly.js" in plotly_js.content[:400]
    assert not (STATIC / "plotly.min.js").exists()
    assert site.get("/static/web.css").status_code == 200
    assert site.get("/static/../web.py").status_code == 404


def test_offers_filter_as_a_page_and_as_the_table_htmx_swaps(site: httpx.Client):
    full = site.get("/offers", params={"provider": "aws", "accelerator": "h100"})
    assert full.status_code == 200
    assert 'id="offer-filters"' in full.text
    table = site.get(
        "/offers", params={"provider": "aws", "accelerator": "h100"}, headers={"HX-Request": "true"}
    )
    assert table.text.lstrip().startswith('<div id="offers-table">')
    rows = re.findall(r"<tr><td>(\w+)</td>", table.text)
    assert rows
    assert set(rows) == {"aws"}
    assert "Age (days)" in table.text
    assert "H100-SXM" in table.text
    wrong = site.get("/offers", params={"provider": "awz"}, headers={"HX-Request": "true"})
    assert "Did you mean &#39;aws&#39;?" in _error(wrong.text)
    second = site.get("/offers", params={"offset": 50}, headers={"HX-Request": "true"})
    assert "51&ndash;100 shown" in second.text


def test_the_validator_names_the_field_or_counts_the_workloads(site: httpx.Client):
    good = site.post("/fleets/validate", data={"fleet": FLEET})
    assert "valid: 2 workloads" in good.text
    bad = site.post("/fleets/validate", data={"fleet": BAD_KIND})
    assert "field workloads[0].kind" in _error(bad.text)
    assert "Did you mean" in _error(bad.text)
    upload = site.post(
        "/fleets/upload",
        files={
            "file": ("fleet.yaml", (REPO / "examples" / "fleet.yaml").read_bytes(), "text/yaml")
        },
    )
    assert "valid: 6 workloads" in upload.text
    assert "pretrain-70b" in upload.text
    traces = (
        "spot:\n  traces: [{path: /etc, provider: aws, region: us-east-1, accelerator: V100}]\n"
    )
    refused = site.post("/fleets/validate", data={"fleet": FLEET + traces})
    assert "field spot.traces" in _error(refused.text)


def test_a_viewer_may_look_but_not_plan(server: Server):
    with server.client(server.token("viewer")) as viewer:
        assert viewer.get("/fleets/new").status_code == 200
        refused = viewer.post("/fleets/plan", data={"fleet": FLEET})
        assert refused.status_code == 403
        assert "needs a planner token" in _error(refused.text)


def test_a_bad_fleet_is_not_planned(site: httpx.Client):
    answer = site.post("/fleets/plan", data={"fleet": BAD_KIND})
    assert answer.status_code == 422
    assert "field workloads[0].kind" in _error(answer.text)


def test_plan_pages_name_the_catalog_and_the_price_ages(site: httpx.Client, two_plans):
    a, b = two_plans
    plan = site.get(f"/plans/{a}")
    assert plan.status_code == 200
    for part in ('id="chart-shares"', 'id="chart-baselines"', "<h2>Assignments</h2>", "Age (days)"):
        assert part in plan.text
    assert "made on catalog 8289d22ba301" in plan.text
    assert 'id="catalog-version"' in plan.text
    assert 'action="/plans/' in plan.text  # the risk form
    compared = site.get("/compare", params={"a": a, "b": b})
    assert compared.status_code == 200
    for part in ('id="compare-totals"', 'id="compare-assignments"', "lora-8b-codegen"):
        assert part in compared.text
    assert re.search(r"\d{4}-\d{2}(-\d{2})?(/\S+)? \(\d+ d\)", compared.text)
    changed = re.findall(r'<tr class="changed"><td>([\w-]+)</td>', compared.text)
    assert changed == ["lora-70b-support"]
    assert site.get("/plans/nosuchplan").status_code == 404
    assert site.get("/jobs/nosuchjob").status_code == 404


def test_the_forms_start_from_small_examples(site: httpx.Client):
    for path, names in (("/procure", ["procurement"]), ("/deals", ["deal", "procurement"])):
        answer = site.get(path)
        assert answer.status_code == 200
        for name in names:
            assert f'name="{name}"' in answer.text
    assert "lora-8b-codegen" in site.get("/fleets/new").text


@pytest.mark.parametrize("path", ["/", "/offers", "/plans", "/compare", "/fleets/new"])
def test_pages_name_the_catalog_version(site: httpx.Client, path: str):
    assert "Catalog version <b>default</b> (8289d22ba301)" in site.get(path).text


def test_static_folder_holds_what_provenance_lists():
    listed = set(
        re.findall(r"^\| `([^`]+)`", (STATIC / "PROVENANCE.md").read_text("utf-8"), re.MULTILINE)
    )
    present = {p.name for p in STATIC.iterdir() if p.name != "PROVENANCE.md"}
    assert present == listed - {"plotly.min.js"}
    assert all(Path(STATIC / name).stat().st_size < 300_000 for name in present)
