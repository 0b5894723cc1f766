"""The service under load: 50 concurrent clients querying the catalog while a plan job
runs (issue #20: 50 concurrent catalog queries at p99 < 200 ms, no error).

    .venv/bin/python bench/service_load.py [--clients 50] [--seconds 20]

Starts ``arbiter serve`` on a free loopback port against a new SQLite database (a stored
catalog version imported through the API first, so reads come from the store like a
team's server), submits a plan job of examples/fleet.yaml, then runs N clients, each
with its own keep-alive connection, issuing catalog queries one after another (pages of
offers with filters, sorts and offsets, and the summary) for a bounded time. Reports
p50/p90/p99/max latency, throughput and errors, whether the plan job ran throughout, and
writes the section "Service load" of bench/RESULTS.md (replacing an earlier run).

The clients are plain HTTP/1.1 over asyncio streams: on a two-core machine a full HTTP
client library would take a large share of the CPU the server is measured on.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import yaml

import spot
from arbiter.store import TokenStore

ROOT = Path(__file__).resolve().parent.parent
HEADING = "## Service load"
FEED = ROOT / "tests" / "data" / "feeds" / "azure-retail-prices.sample.json"
FLEET = ROOT / "examples" / "fleet.yaml"
TODAY = "2026-11-01"
TARGET_P99_MS = 200.0

QUERIES: tuple[dict[str, Any] | None, ...] = (
    {},
    {"accelerator": "H100", "limit": 50},
    {"vendor": "AMD", "regime": "on_demand"},
    {"provider": ["aws", "gcp"], "sort": "usd_per_hour", "limit": 20},
    {"region": "us-*", "offset": 100, "limit": 100},
    None,  # the summary
    {"accelerator": ["B200", "MI300X", "Trainium2"], "sort": "as_of"},
    {"regime": "spot", "offset": 40, "limit": 40},
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def paths() -> list[str]:
    out = []
    for q in QUERIES:
        if q is None:
            out.append("/api/v1/catalog/summary")
        else:
            out.append("/api/v1/catalog/offers?" + urlencode(q, doseq=True))
    return out


async def client(
    port: int, secret: str, targets: list[str], offset: int, until: float
) -> tuple[list[float], list[str]]:
    """One client: a keep-alive connection, one request after another until ``until``."""
    latencies: list[float] = []
    errors: list[str] = []
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    try:
        while time.perf_counter() < until:
            path = targets[i % len(targets)]
            i += 1
            request = (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {secret}\r\nAccept: application/json\r\n\r\n"
            )
            start = time.perf_counter()
            writer.write(request.encode())
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in {b"\r\n", b""}:
                    break
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            status = status_line.split()[1] if status_line else b"none"
            if status != b"200":
                errors.append(f"{status.decode()} {path}")
            elif not json.loads(body):
                errors.append(f"empty answer {path}")
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        writer.close()
    return latencies, errors


async def load(
    port: int, secret: str, clients: int, seconds: float
) -> tuple[list[float], list[str]]:
    targets = paths()
    until = time.perf_counter() + seconds
    found = await asyncio.gather(*(client(port, secret, targets, i, until) for i in range(clients)))
    return [x for lat, _ in found for x in lat], [e for _, errs in found for e in errs]


class PlanJobs(threading.Thread):
    """Keeps a plan job of examples/fleet.yaml running: a new one as soon as one ends.
    ``running / polls``: the share of its looks (ten a second) that saw one running."""

    def __init__(self, base: str, secret: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.fleet = yaml.safe_load(FLEET.read_text(encoding="utf-8"))
        self.started = threading.Event()
        self.stop = threading.Event()
        self.submitted = self.polls = self.running = 0

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers=self.headers, timeout=60) as http:
            while not self.stop.is_set():
                body = {"fleet": self.fleet, "save": False}
                job = http.post("/jobs/plan", json=body, params={"time_limit_s": 600})
                job.raise_for_status()
                job_id = job.json()["job_id"]
                self.submitted += 1
                status = "queued"
                while status in {"queued", "running"} and not self.stop.is_set():
                    status = http.get(f"/jobs/{job_id}").json()["status"]
                    if status == "running":
                        self.started.set()
                    if self.started.is_set():
                        self.polls += 1
                        self.running += status == "running"
                    time.sleep(0.1)
                if status in {"queued", "running"}:
                    http.post(f"/jobs/{job_id}/cancel")


def start_server(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "arbiter.cli.app", "serve", "--port", str(port)]
    command += ["--log-level", "warning"]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"the server did not start: {log.read_text()}")


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(clients: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/arbiter.db"
        env = {**os.environ, "ARBITER_DB_URL": url, "ARBITER_TODAY": TODAY}
        now = dt.datetime.now(dt.UTC)
        with TokenStore(url) as tokens:
            admin, _ = tokens.create("admin", label="bench", now=now)
            viewer, _ = tokens.create("viewer", label="bench", now=now)
        port = free_port()
        server = start_server(port, env, Path(tmp) / "server.log")
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            auth = {"Authorization": f"Bearer {admin}"}
            with httpx.Client(base_url=base, headers=auth, timeout=60) as http:
                files = {"file": (FEED.name, FEED.read_bytes())}
                imported = http.post("/catalog/import", data={"source": "azure"}, files=files)
                imported.raise_for_status()
                jobs = PlanJobs(base, admin)
                jobs.start()
                jobs.started.wait(60)
                start = time.perf_counter()
                latencies, errors = asyncio.run(load(port, viewer, clients, seconds))
                elapsed = time.perf_counter() - start
                jobs.stop.set()
                jobs.join(120)
        finally:
            server.terminate()
            server.wait(30)
    return {
        "clients": clients,
        "seconds": elapsed,
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": statistics.median(latencies) * 1000,
        "p90_ms": quantile(latencies, 0.90) * 1000,
        "p99_ms": quantile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
        "plan_jobs": jobs.submitted,
        "plan_running_share": jobs.running / max(jobs.polls, 1),
        "offers": imported.json()["n_offers"],
    }


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    names = [
        line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")
    ]
    return f"{len(names)} x {names[0]}" if names else "unknown CPU"


def section(r: dict[str, Any]) -> list[str]:
    met = r["p99_ms"] < TARGET_P99_MS and not r["errors"]
    return [
        HEADING,
        "",
        (
            f"Run {dt.date.today().isoformat()} with `bench/service_load.py` on "
            f"{platform.platform()}, {cpu_model()}, Python {platform.python_version()}: "
            f"`arbiter serve` (one process, SQLite) on loopback, a stored catalog version of "
            f"{r['offers']:,} offers; {r['clients']} clients, each on its own keep-alive "
            f"connection, one request after another for {r['seconds']:.0f} s: pages of offers "
            "(filters by chip, vendor, provider, regime and region glob; sorts; offsets) and "
            "the summary, with a viewer token. Meanwhile plan jobs of examples/fleet.yaml ran "
            f"one after another ({r['plan_jobs']} of them; one was running at "
            f"{r['plan_running_share']:.0%} of the moments looked at, ten a second)."
        ),
        "",
        "| requests | throughput | p50 | p90 | p99 | max | errors | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
        (
            f"| {r['requests']:,} | {r['requests'] / r['seconds']:,.0f}/s | "
            f"{r['p50_ms']:.1f} ms | {r['p90_ms']:.1f} ms | {r['p99_ms']:.1f} ms | "
            f"{r['max_ms']:.1f} ms | {len(r['errors'])} | p99 < {TARGET_P99_MS:.0f} ms, no "
            f"error | {'yes' if met else '**no**'} |"
        ),
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-write", action="store_true", help="Print only.")
    args = parser.parse_args()
    result = measure(args.clients, args.seconds)
    lines = section(result)
    if not args.no_write:
        spot.write(lines, HEADING)
    print("\n".join(lines))
    for error in result["errors"][:10]:
        print("error:", error)


if __name__ == "__main__":
    main()
