"""A real server for the web app's tests: the app factory ``arbiter.service.app:create_app``
(the REST API and the web pages) run by uvicorn in a process of its own, on a free port,
over a temporary SQLite database, on the fixed day ARBITER_TODAY=2026-12-06; tokens made
with the TokenStore; plans made and saved by plan jobs through the API. The web tests'
fixtures ``server`` and ``planner`` (:func:`module_fixtures`) start one per test module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from arbiter.api import Settings
from arbiter.store import TokenStore

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TODAY = "2026-12-06"
FLEET = (REPO / "src" / "arbiter" / "service" / "examples" / "fleet.yaml").read_text("utf-8")
"""The editor's own fleet: two fine-tunes, planned in about a second."""
ANYWHERE = FLEET.replace("    providers: [aws, gcp, azure]\n", "")
"""The same with the 70B fine-tune allowed on any provider: another plan."""
START_TIMEOUT_S = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """A running server: its address, its database and a log of what it printed."""

    url: str
    db_url: str
    log: Path

    @property
    def settings(self) -> Settings:
        return Settings.from_env({"ARBITER_DB_URL": self.db_url, "ARBITER_TODAY": TODAY})

    def token(self, role: str = "planner", label: str = "") -> str:
        """The secret of a new token of ``role``."""
        with TokenStore(self.db_url) as store:
            secret, _ = store.create(
                role, label=label or f"web test {role}", now=dt.datetime.now(dt.UTC)
            )
        return secret

    def client(self, secret: str) -> httpx.Client:
        """An HTTP client of the server that presents ``secret`` as the login cookie."""
        return httpx.Client(base_url=self.url, cookies={"arbiter_token": secret}, timeout=60)

    def job(self, secret: str, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Run a ``kind`` job through the REST API to its end; its last state."""
        headers = {"Authorization": f"Bearer {secret}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=60) as api:
            started = api.post(f"/api/v1/jobs/{kind}", json=dict(body))
            assert started.status_code == 202, started.text
            job_id = started.json()["job_id"]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                job: dict[str, Any] = api.get(f"/api/v1/jobs/{job_id}").json()
                if job["status"] not in ("queued", "running"):
                    assert job["status"] == "succeeded", job
                    return job
                time.sleep(0.2)
        raise AssertionError(f"job {job_id} did not end in 120 s")

    def plan(self, secret: str, fleet: str = FLEET) -> str:
        """The id of a plan of ``fleet``, made and saved by a plan job."""
        ref = self.job(secret, "plan", {"fleet": fleet, "save": True})["result_ref"]
        assert isinstance(ref, str)
        return ref


@contextlib.contextmanager
def running_server(folder: Path) -> Iterator[Server]:
    """A server over a new database in ``folder``, stopped when the block ends."""
    port = _free_port()
    db_url = f"sqlite:///{folder / 'arbiter.db'}"
    env = {**os.environ, "ARBITER_DB_URL": db_url, "ARBITER_TODAY": TODAY}
    env.pop("ARBITER_CAPACITY_FILE", None)
    log = folder / "server.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "arbiter.service.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=folder
        )
    server = Server(url=f"http://127.0.0.1:{port}", db_url=db_url, log=log)
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _wait_until_up(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {server.log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/api/v1/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(
        f"the server did not start in {START_TIMEOUT_S:g} s: {server.log.read_text()}"
    )


def module_fixtures() -> tuple[Any, Any]:
    """The fixtures ``server`` (a server for the test module) and ``planner`` (the secret
    of a planner token of it), for a test module to take as its own:
    ``server, planner = module_fixtures()``."""

    @pytest.fixture(scope="module")
    def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
        with running_server(tmp_path_factory.mktemp("web-server")) as running:
            yield running

    @pytest.fixture(scope="module")
    def planner(server: Server) -> str:
        return server.token("planner")

    return server, planner
