"""The store under ``kill -9``: a write killed at any moment leaves the old or the new version.

Each test runs a writer in a subprocess against a temporary SQLite store (``arbiter catalog
import``, ``arbiter plan --save``, or the store API in a loop), sends SIGKILL after a random
delay (seeded, so a failure replays), then opens the store and reads everything it lists:
the current catalog version loads and hashes to its name, every listed version and plan loads
intact, and SQLite's integrity check passes. Nothing half-written may be visible.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from arbiter.store import CatalogStore, PlanStore

REPO = Path(__file__).resolve().parents[2]
FEEDS = REPO / "tests" / "data" / "feeds"
KILLS = 3  # per test; each kill costs a subprocess start (about a second)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

SMALL_FLEET = textwrap.dedent(
    """\
    workloads:
      - name: lora-8b
        kind: finetune
        model: llama-3.1-8b
        tokens: 1B
        deadline_days: 5
    """
)


def _env(db: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(ARBITER_DB_URL=f"sqlite:///{db}", ARBITER_TODAY="2026-11-29", COLUMNS="200")
    return env


def _arbiter(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from arbiter.cli.app import main; sys.exit(main())",
        *args,
    ]


def _kill_after(cmd: list[str], env: dict[str, str], delay: float) -> int | None:
    """Start ``cmd``, SIGKILL it after ``delay`` seconds; its exit code if it ended first."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return None


def _integrity(db: Path) -> None:
    if not db.exists():
        return
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def _check_catalogs(db: Path, allowed_current: set[str] | None = None) -> set[str]:
    """Open the store and read every version it lists; return the names."""
    _integrity(db)
    store = CatalogStore(f"sqlite:///{db}")
    try:
        current = store.current()
        catalog = store.load(current)
        if current != "default":
            assert catalog.content_hash == current
        names = {v.version for v in store.versions()}
        for name in names:
            loaded = store.load(name)
            if name != "default":
                assert loaded.content_hash == name, f"version {name} is damaged"
        if allowed_current is not None:
            assert current in allowed_current
        return names
    finally:
        store.close()


def _timing(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def test_catalog_import_killed_at_random_moments_leaves_old_or_new_version(tmp_path):
    db = tmp_path / "arbiter.db"
    env = _env(db)
    feeds = [
        ("skypilot", FEEDS / "skypilot-catalog" / "aws_vms.sample.csv"),
        ("skypilot", FEEDS / "skypilot-catalog" / "lambda_vms.sample.csv"),
        ("azure", FEEDS / "azure-retail-prices.sample.json"),
        ("gcp", FEEDS / "gcp-cloud-billing-catalog-skus.sample.json"),
    ]
    # a first import: the "old" state every killed import starts from
    full = _timing(
        _arbiter("catalog", "import", "runpod", str(FEEDS / "runpod-graphql-gputypes.sample.json")),
        env,
    )
    rnd = random.Random(20261205)
    for source, path in feeds[:KILLS]:
        before = _check_catalogs(db)
        old_current = CatalogStore(f"sqlite:///{db}").current()
        code = _kill_after(
            _arbiter("catalog", "import", source, str(path)), env, rnd.uniform(0.2, full * 1.2)
        )
        after = _check_catalogs(db)
        new = after - before
        assert len(new) <= 1, "one import adds at most one version"
        assert before <= after, "a killed import must not remove versions"
        current = CatalogStore(f"sqlite:///{db}").current()
        assert current in {old_current, *new}
        if code == 0:
            assert current in new or current == old_current


def test_plan_save_killed_at_random_moments_leaves_old_or_new_plans(tmp_path):
    db = tmp_path / "arbiter.db"
    env = _env(db)
    fleet = tmp_path / "small.yaml"
    fleet.write_text(SMALL_FLEET, encoding="utf-8")
    full = _timing(_arbiter("plan", str(fleet), "--save"), env)
    rnd = random.Random(7)
    for i in range(KILLS):
        # a different budget each time, so each run saves a new plan document
        fleet.write_text(
            SMALL_FLEET + f"constraints:\n  budget_usd: {10_000_000 + i}\n", encoding="utf-8"
        )
        before = {p.plan_id for p in PlanStore(f"sqlite:///{db}").list()}
        _kill_after(_arbiter("plan", str(fleet), "--save"), env, rnd.uniform(0.2, full * 1.2))
        _integrity(db)
        store = PlanStore(f"sqlite:///{db}")
        after = {p.plan_id for p in store.list()}
        assert before <= after and len(after - before) <= 1
        for plan in after:
            document = store.load(plan)  # checks the stored text against its hash
            assert document["assignments"]
        _check_catalogs(db)


_API_WRITER = textwrap.dedent(
    """\
    import dataclasses, datetime as dt, sys
    from arbiter.catalog.embedded import default_catalog
    from arbiter.domain.catalog import Catalog
    from arbiter.store import CatalogStore

    store = CatalogStore(sys.argv[1])
    base = default_catalog()
    offers = list(base.offers)
    for i in range(1, 10_000):
        # a new version each time: one offer repriced
        offers[0] = dataclasses.replace(offers[0], usd_per_hour=offers[0].usd_per_hour + 0.01)
        catalog = Catalog.of(base.accelerators.values(), offers)
        info = store.save(catalog, label=f"v{i}", created_at=dt.datetime(2026, 11, 1))
        store.use(info.version)
        print(i, flush=True)
    """
)


def test_store_api_writes_killed_at_random_moments_leave_whole_versions(tmp_path):
    db = tmp_path / "arbiter.db"
    url = f"sqlite:///{db}"
    script = tmp_path / "writer.py"
    script.write_text(_API_WRITER, encoding="utf-8")
    rnd = random.Random(99)
    for _ in range(KILLS):
        before = _check_catalogs(db) if db.exists() else set()
        _kill_after([sys.executable, str(script), url], dict(os.environ), rnd.uniform(1.0, 3.0))
        after = _check_catalogs(db)
        assert before <= after
