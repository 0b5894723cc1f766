"""The REST API of ``arbiter serve``, against a real server process (conftest.py): the
health check, tokens and roles, the catalog (paging, filters, summary, versions, diffs,
history, imports), request size limits, jobs end to end and the saved plans."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import arbiter
from arbiter._version import __version__
from arbiter.store import PlanStore

pytestmark = pytest.mark.xdist_group("api")

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"
AZURE = FEEDS / "azure-retail-prices.sample.json"
REPO = Path(__file__).resolve().parents[2]
TINY_FLEET: dict[str, Any] = {
    "workloads": [
        {
            "name": "lora-8b",
            "kind": "finetune",
            "model": "llama-3.1-8b",
            "tokens": "1B",
            "seq_len": 4096,
            "deadline_days": 5,
        }
    ]
}
ERROR_KEYS = {"error", "message", "field", "file", "valid"}


def _wait(client: httpx.Client, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
        if job["status"] not in {"queued", "running"}:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not end in {timeout:g} s")


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == ERROR_KEYS
    assert "Traceback" not in response.text
    return body


# -- health and tokens ------------------------------------------------------------------------


def test_health_needs_no_token(api_server):
    with api_server.client() as client:
        answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "version": __version__}


def test_a_missing_or_unknown_token_is_401_with_www_authenticate(api_server):
    with api_server.client() as anonymous:
        missing = anonymous.get("/catalog/summary")
    with api_server.client(secret="arb_not-a-real-token") as unknown:
        bad = unknown.get("/catalog/summary")
    for answer in (missing, bad):
        _error(answer, 401)
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert "arbiter tokens create" in missing.json()["message"]


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("viewer", {"read"}), ("planner", {"read", "plan"}), ("admin", {"read", "plan", "admin"})],
)
def test_each_role_may_do_what_it_may_and_no_more(api_server, role, allowed):
    calls = {
        "read": lambda c: c.get("/catalog/offers", params={"limit": 1}),
        "plan": lambda c: c.post("/jobs/plan", json={"fleet": {"workloads": "nope"}}),
        "admin": lambda c: c.get("/tokens"),
    }
    with api_server.client(role) as client:
        for what, call in calls.items():
            answer = call(client)
            if what in allowed:
                assert answer.status_code in {200, 422}, (what, answer.text)
            else:
                body = _error(answer, 403)
                assert role in body["message"]


def test_the_cookie_of_the_web_app_is_a_token_too(api_server):
    secret = api_server.token("viewer")
    with httpx.Client(base_url=f"{api_server.url}/api/v1", cookies={"arbiter_token": secret}) as c:
        assert c.get("/catalog/summary").status_code == 200


def test_an_expired_token_is_refused(api_server):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    secret = api_server.token("viewer", expires_at=soon)
    with api_server.client(secret=secret) as client:
        assert client.get("/catalog/versions").status_code == 200
        time.sleep(3.5)
        _error(client.get("/catalog/versions"), 401)


def test_admin_makes_lists_and_revokes_tokens(api_server):
    with api_server.client("admin") as admin:
        made = admin.post("/tokens", json={"role": "viewer", "label": "ci", "expires_days": 7})
        assert made.status_code == 201, made.text
        new = made.json()
        secret, token_id = new["secret"], new["token"]["token_id"]
        api_server.secrets.append(secret)
        assert new["token"]["role"] == "viewer"
        assert new["token"]["expires_at"] is not None
        listed = admin.get("/tokens").json()
        assert token_id in {t["token_id"] for t in listed}
        assert all("secret" not in t for t in listed)
        assert secret not in json.dumps(listed)
        with api_server.client(secret=secret) as viewer:
            assert viewer.get("/catalog/versions").status_code == 200
            revoked = admin.delete(f"/tokens/{token_id}")
            assert revoked.status_code == 200
            assert revoked.json()["revoked"] is True
            _error(viewer.get("/catalog/versions"), 401)  # at once, cached or not
        _error(admin.delete("/tokens/0123456789ab"), 404)
        body = _error(admin.post("/tokens", json={"role": "root"}), 422)
        assert body["field"] == "body.role"


# -- the catalog ------------------------------------------------------------------------------


def test_offers_come_in_pages_with_a_total(api_server):
    with api_server.client("viewer") as client:
        whole = client.get("/catalog/offers", params={"limit": 40}).json()
        first = client.get("/catalog/offers", params={"limit": 20}).json()
        second = client.get("/catalog/offers", params={"limit": 20, "offset": 20}).json()
        past = client.get("/catalog/offers", params={"offset": 10**6}).json()
    assert whole["total"] == first["total"] == second["total"] > 40
    assert [o["offer_id"] for o in first["offers"] + second["offers"]] == [
        o["offer_id"] for o in whole["offers"]
    ]
    assert (first["offset"], first["limit"], second["offset"]) == (0, 20, 20)
    assert past["offers"] == []
    assert past["total"] == whole["total"]
    prices = [o["usd_per_accelerator_hour"] for o in whole["offers"]]
    assert prices == sorted(prices)


def test_offer_filters_are_the_library_s(api_server):
    params = {
        "accelerator": ["H100", "mi300x"],
        "regime": "on_demand",
        "region": "us-*",
        "sort": "usd_per_hour",
        "limit": 1000,
    }
    with api_server.client("viewer") as client:
        page = client.get("/catalog/offers", params=params).json()
        amd = client.get("/catalog/offers", params={"vendor": "AMD", "limit": 1000}).json()
    expected = arbiter.offers(
        accelerators=["H100", "mi300x"],
        regimes=["on_demand"],
        region="us-*",
        sort="usd_per_hour",
        config=api_server.settings,
    )
    assert [o["offer_id"] for o in page["offers"]] == [o.offer_id for o in expected]
    assert page["total"] == len(expected) > 0
    assert page["offers"][0] == expected[0].to_dict()
    assert {o["accelerator"] for o in page["offers"]} == {"H100-SXM", "MI300X"}
    assert all(o["region"].startswith("us-") for o in page["offers"])
    assert {o["vendor"] for o in amd["offers"]} == {"AMD"}


def test_bad_offer_queries_are_422_naming_the_parameter(api_server):
    with api_server.client("viewer") as client:
        unknown = _error(client.get("/catalog/offers", params={"accelerator": "H10"}), 422)
        too_many = _error(client.get("/catalog/offers", params={"limit": 5000}), 422)
        sort = _error(client.get("/catalog/offers", params={"sort": "cheapest"}), 422)
        typo = _error(client.get("/catalog/offers", params={"acclerator": "H100"}), 422)
        version = _error(client.get("/catalog/offers", params={"version": "ffffff"}), 422)
    assert unknown["error"] == "UnknownNameError"
    assert "Did you mean" in unknown["message"]
    assert "H100" in unknown["valid"]
    assert too_many["field"] == "query.limit"
    assert sort["field"] == "query.sort"
    assert typo["field"] == "query.acclerator"
    assert "catalog version" in version["message"]


def test_summary_accelerators_and_history_are_the_library_s(api_server):
    with api_server.client("viewer") as client:
        summary = client.get("/catalog/summary").json()
        chips = client.get("/catalog/accelerators", params={"vendor": "amd"}).json()
        history = client.get("/catalog/history/H100", params={"provider": "runpod"}).json()
        missing = _error(client.get("/catalog/history/H1000"), 404)
    settings = api_server.settings
    assert summary == arbiter.catalog_summary(config=settings).to_dict()
    assert summary["today"] == "2026-11-01"
    assert chips == arbiter.accelerators(["amd"], config=settings).to_list()
    assert {c["vendor"] for c in chips} == {"AMD"}
    expected = arbiter.price_history("H100", providers=["runpod"], config=settings)
    assert history == expected.to_dict()
    assert missing["field"] == "accelerator"


def test_an_import_makes_a_version_that_versions_diff_and_offers_see(api_server):
    with api_server.client("admin") as admin:
        before = admin.get("/catalog/versions").json()
        files = {"file": ("../../etc/azure.json", AZURE.read_bytes(), "application/json")}
        made = admin.post("/catalog/import", data={"source": "azure"}, files=files)
        assert made.status_code == 201, made.text
        result = made.json()
        after = admin.get("/catalog/versions").json()
        diff = admin.get("/catalog/diff", params={"old": "default", "new": result["version"]})
        offers = admin.get("/catalog/offers", params={"limit": 1}).json()
        summary = admin.get("/catalog/summary").json()
    assert result["files"] == ["azure.json"]  # the upload's name, never a path
    assert result["replaced"] + result["added"] == 2
    assert result["parent"] == "default"
    assert any("7 records read, 2 offers" in note for note in result["notes"])
    assert len(after) == len(before) + 1
    (current,) = [v for v in after if v["current"]]
    assert current["version"] == result["version"]
    assert current["label"] == "import azure azure.json"
    assert diff.status_code == 200
    expected = arbiter.catalog_diff("default", result["version"], config=api_server.settings)
    assert diff.json() == expected.to_dict()
    assert expected.unchanged + len(expected.changed) + len(expected.added) == result["n_offers"]
    assert offers["version"] == summary["version"] == result["version"]
    assert summary["n_offers"] == result["n_offers"]


def test_a_broken_upload_is_422_naming_the_file_and_nothing_is_saved(api_server):
    with api_server.client("admin") as admin:
        before = admin.get("/catalog/versions").json()
        broken = {"file": ("prices-2026-11.json", b'{"Items": [', "application/json")}
        bad = _error(admin.post("/catalog/import", data={"source": "azure"}, files=broken), 422)
        empty = {"file": ("empty.json", b"  \n", "application/json")}
        blank = _error(admin.post("/catalog/import", data={"source": "azure"}, files=empty), 422)
        files = {"file": ("x.json", AZURE.read_bytes(), "application/json")}
        source = _error(admin.post("/catalog/import", data={"source": "azur"}, files=files), 422)
        after = admin.get("/catalog/versions").json()
    with api_server.client("planner") as planner:
        _error(planner.post("/catalog/import", data={"source": "azure"}, files=files), 403)
    assert bad["file"] == "prices-2026-11.json"
    assert "prices-2026-11.json" in bad["message"]
    assert bad["error"] == "FeedError"
    assert blank["file"] == "empty.json"
    assert "Did you mean 'azure'" in source["message"]
    assert after == before


def test_a_body_over_the_limit_is_413(api_server):
    big = b"x" * (1_000_000 + 1)
    with api_server.client("admin") as admin:
        declared = admin.post(
            "/jobs/plan", content=big, headers={"Content-Type": "application/json"}
        )
        streamed = admin.post(
            "/jobs/plan",
            content=iter([big[:600_000], big[600_000:]]),  # chunked: no Content-Length
            headers={"Content-Type": "application/json"},
        )
        upload = admin.post(
            "/catalog/import", data={"source": "azure"}, files={"file": ("big.json", big)}
        )
        assert admin.get("/health").status_code == 200
    for answer in (declared, streamed, upload):
        body = _error(answer, 413)
        assert "1,000,000 bytes" in body["message"]


# -- jobs and plans ---------------------------------------------------------------------------


def test_a_plan_job_end_to_end_and_its_saved_plan(api_server):
    with api_server.client("planner") as planner:
        started = planner.post(
            "/jobs/plan", json={"fleet": TINY_FLEET}, params={"time_limit_s": 120}
        )
        assert started.status_code == 202, started.text
        job = started.json()
        assert started.headers["location"] == f"/api/v1/jobs/{job['job_id']}"
        assert job["kind"] == "plan"
        assert job["status"] in {"queued", "running"}
        assert job["time_limit_s"] == 120
        ended = _wait(planner, job["job_id"])
        assert ended["status"] == "succeeded", ended
        result = planner.get(f"/jobs/{job['job_id']}/result")
        assert result.status_code == 200
        plan = result.json()
        listed = planner.get("/jobs").json()
        plans = planner.get("/plans").json()
        saved = planner.get(f"/plans/{ended['result_ref']}").json()
    assert plan["status"] == "optimal"
    assert [a["workload"] for a in plan["assignments"]] == ["lora-8b"]
    assert arbiter.Plan.model_validate(plan).total_usd == plan["total_usd"]
    assert [j["job_id"] for j in listed] == [job["job_id"]]
    plan_id = ended["result_ref"]
    assert plan_id in {p["plan_id"] for p in plans}
    assert saved["info"]["plan_id"] == plan_id
    assert saved["document"]["total_usd"] == plan["total_usd"]
    with PlanStore(api_server.db_url) as store:
        assert plan_id in {p.plan_id for p in store.list()}
    cli = subprocess.run(
        [sys.executable, "-m", "arbiter.cli.app", "plans", "list", "--json"],
        env=api_server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert plan_id in {p["plan_id"] for p in json.loads(cli.stdout)}


def test_a_bad_fleet_is_422_naming_the_field_and_makes_no_job(api_server):
    fleet = {"workloads": [{**TINY_FLEET["workloads"][0], "model": "llama-9"}]}
    with api_server.client("planner") as planner:
        body = _error(planner.post("/jobs/plan", json={"fleet": fleet}), 422)
        extra = _error(planner.post("/jobs/plan", json={"fleet": fleet, "seed": 1}), 422)
        limit = _error(
            planner.post("/jobs/plan", json={"fleet": TINY_FLEET}, params={"time_limit_s": 1e9}),
            422,
        )
        path = _error(planner.post("/jobs/plan", json={"fleet": "/etc/passwd"}), 422)
        assert planner.get("/jobs").json() == []
    assert body["field"] == "fleet.workloads[0].model"
    assert "llama-9" in body["message"]
    assert extra["field"] == "body.seed"
    assert limit["field"] == "query.time_limit_s"
    assert path["field"].startswith("fleet")


def test_cancel_a_running_job_and_its_result_is_409(api_server):
    fleet = (REPO / "examples" / "fleet.yaml").read_text(encoding="utf-8")
    with api_server.client("planner") as planner:
        job = planner.post("/jobs/plan", json={"fleet": fleet, "save": False}).json()
        waiting = planner.get(f"/jobs/{job['job_id']}/result")
        body = _error(waiting, 409)
        assert "not ready" in body["message"]
        cancelled = planner.post(f"/jobs/{job['job_id']}/cancel")
        assert cancelled.status_code == 200
        assert cancelled.json()["status"] == "cancelled"
        after = _error(planner.get(f"/jobs/{job['job_id']}/result"), 409)
        again = planner.post(f"/jobs/{job['job_id']}/cancel").json()
    assert "cancelled" in after["message"]
    assert again["status"] == "cancelled"


def test_unknown_and_other_tokens_jobs_are_404(api_server):
    with api_server.client("planner") as owner:
        job = owner.post("/jobs/plan", json={"fleet": TINY_FLEET, "save": False}).json()
        with api_server.client("planner") as other:
            _error(other.get(f"/jobs/{job['job_id']}"), 404)
            _error(other.post(f"/jobs/{job['job_id']}/cancel"), 404)
            _error(other.get("/jobs/0000000000000000"), 404)
            _error(other.get("/jobs/0000000000000000/result"), 404)
            assert other.get("/jobs").json() == []
        with api_server.client("admin") as admin:
            assert admin.get(f"/jobs/{job['job_id']}").status_code == 200
            assert job["job_id"] in {j["job_id"] for j in admin.get("/jobs").json()}
        _wait(owner, job["job_id"])
        _error(owner.get("/plans/ffffffffffff"), 404)


# -- what the server never does ------------------------------------------------------------


def test_cors_is_off_by_default(api_server):
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    with api_server.client() as client:
        answer = client.options("/catalog/offers", headers=headers)
    assert "access-control-allow-origin" not in answer.headers


def test_no_secret_is_ever_logged(api_server):
    with api_server.client("viewer") as client:
        client.get("/catalog/summary")
    time.sleep(0.5)
    log = api_server.log.read_text(encoding="utf-8", errors="replace")
    assert "GET /api/v1/catalog/summary" in log  # the access log is on
    assert api_server.secrets
    for secret in api_server.secrets:
        assert secret not in log
        assert secret[4:20] not in log
    assert "Traceback" not in log


# -- the API's models stay in step with the library ------------------------------------------


def test_the_api_s_vocabularies_are_the_library_s():
    from typing import get_args

    from arbiter.catalog.query import SORT_KEYS
    from arbiter.service.job_requests import KEYS
    from arbiter.service.models import JOB_BODIES, Role, Sort
    from arbiter.store import JOB_KINDS, ROLES

    assert get_args(Sort) == SORT_KEYS
    assert get_args(Role) == ROLES
    assert tuple(JOB_BODIES) == JOB_KINDS
    for kind, body in JOB_BODIES.items():
        assert set(body.model_fields) - {"time_limit_s"} == set(KEYS[kind]), kind
