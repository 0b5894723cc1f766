"""A real ``arbiter serve`` for the REST API's tests: started once per test module in a
process of its own, on a free loopback port, over a new SQLite database, on the fixed day
ARBITER_TODAY=2026-11-01, with a request size limit of 1 MB. Tokens are made with the
TokenStore on the same database; ``api_server.client(role)`` is an httpx client that
presents one."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from web_server import _free_port, _wait_until_up  # as the web app's tests start theirs

from arbiter.api import Settings
from arbiter.store import TokenStore

TODAY = "2026-11-01"
MAX_BODY_MB = 1


@dataclass
class ApiServer:
    """A running ``arbiter serve``: its address, database, environment and log."""

    url: str
    db_url: str
    env: dict[str, str]
    log: Path
    secrets: list[str] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return Settings.from_env({"ARBITER_DB_URL": self.db_url, "ARBITER_TODAY": TODAY})

    def token(self, role: str, *, expires_at: dt.datetime | None = None) -> str:
        """The secret of a new token of ``role``, made with the TokenStore."""
        with TokenStore(self.db_url) as store:
            secret, _ = store.create(
                role, label=f"api test {role}", expires_at=expires_at, now=dt.datetime.now(dt.UTC)
            )
        self.secrets.append(secret)
        return secret

    def client(self, role: str | None = None, *, secret: str | None = None) -> httpx.Client:
        """A client of ``/api/v1`` with a new token of ``role`` (or ``secret``; neither:
        no token)."""
        if role is not None:
            secret = self.token(role)
        headers = {"Authorization": f"Bearer {secret}"} if secret else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=60)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("api-server")
    db_url = f"sqlite:///{folder / 'arbiter.db'}"
    env = {**os.environ, "ARBITER_DB_URL": db_url, "ARBITER_TODAY": TODAY}
    env.pop("ARBITER_CAPACITY_FILE", None)
    port = _free_port()
    log = folder / "server.log"
    command = [sys.executable, "-m", "arbiter.cli.app", "serve", "--port", str(port)]
    command += ["--max-body-mb", str(MAX_BODY_MB)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = ApiServer(url=f"http://127.0.0.1:{port}", db_url=db_url, env=env, log=log)
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(30)
        process.kill()  # nothing when it has ended
        process.wait(10)
