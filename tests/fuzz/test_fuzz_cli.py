"""Every command's options with Hypothesis-chosen values, in-process.

The options of each command are read from the Typer app itself, so a new option is fuzzed
without a change here. Values are hostile (huge, negative, NaN, empty, paths that do not
exist or cannot be written, unknown names), options may be repeated, misspelt or missing
their value. The contract at the CLI: exit code 0, 2, 3, 4 or 5 (6 or 7: a refresh whose
feeds failed), never a traceback, and no input slower than the per-input limit. Commands
that solve for minutes on valid input (risk, procure, deal) get a file that fails to load,
so their options are parsed and checked but nothing is solved. ``catalog refresh`` runs offline: every download fails at
once (exit 6 or 7), with no wait between tries. ``serve`` builds its app and does not listen.
"""

from __future__ import annotations

from pathlib import Path

import fuzzing
import httpx
import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbiter.api import refreshing
from arbiter.catalog.feeds.retry import retrying_client
from arbiter.cli.app import app

EXAMPLES_PER_COMMAND = 12
TIMEOUT_S = 30.0

SMALL_FLEET = """\
workloads:
  - name: lora-8b
    kind: finetune
    model: llama-3.1-8b
    tokens: 1B
    deadline_days: 5
"""


def _commands() -> dict[str, object]:
    found: dict[str, object] = {}

    def walk(command: object, path: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, [*path, name])
        else:
            found[" ".join(path)] = command

    walk(typer.main.get_command(app), [])
    return found


COMMANDS = _commands()
SLOW = {"risk", "procure", "deal"}

values = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1",
            "3",
            "1e308",
            "-1e308",
            "1e-320",
            "nan",
            "inf",
            "",
            " ",
            "abc",
            "99999999999999999999999",
            "H100",
            "aws",
            "nvidia",
            "spot",
            "price",
            "us-*",
            "[",
            "local",
            "ray",
            "json",
            "dstack",
            "skypilot",
            "0.5",
            "2026-13-45",
            "x" * 300,
            "/nonexistent/dir/out.html",
            "default",
            "é€",
        ]
    ),
    st.text(max_size=12),
)


def _files(folder: Path) -> dict[str, Path]:
    fleet = folder / "small.yaml"
    fleet.write_text(SMALL_FLEET, encoding="utf-8")
    broken = folder / "broken.yaml"
    broken.write_bytes(b"workloads: [\xff\n")
    # a few cases from three sources: `perf validate --cv` refits once per source
    lines = (fuzzing.PERF / "perf-calibration-cases.csv").read_text("utf-8").splitlines()
    cases = folder / "cases.csv"
    cases.write_text("\n".join([lines[0], *lines[1:4], *lines[40:43], *lines[120:123]]) + "\n")
    return {
        "fleet": fleet,
        "broken": broken,
        "missing": folder / "missing.yaml",
        "cases": cases,
    }


def _positional(command: str, name: str, files: dict[str, Path], pick: int) -> str:
    if command in SLOW:
        return str([files["broken"], files["missing"]][pick % 2])
    by_command = {
        "estimate": fuzzing.EXAMPLES / "workloads.yaml",
        "plan": files["fleet"],
        "export": fuzzing.PLANS / "sample_plan.json",
        "perf validate": files["cases"],
        "catalog import": fuzzing.FEEDS / "runpod-graphql-gputypes.sample.json",
    }
    if name == "source":
        return ["runpod", "skypilot", "nosuch", "gcp"][pick % 4]
    good = by_command.get(command)
    options = [str(good)] if good else ["default", "latest", "abc"]
    options += [str(files["broken"]), str(files["missing"])]
    return options[pick % len(options)]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """``catalog refresh`` never reaches the network: every request fails at once."""

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("offline (fuzz run)", request=request)

    def client(*, timeout_s: float) -> httpx.Client:
        transport = httpx.MockTransport(unreachable)
        return retrying_client(transport, timeout_s=timeout_s, sleep=lambda _s: None)

    monkeypatch.setattr(refreshing, "retrying_client", client)


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve`` parses its options and builds its app, but never listens (a server runs
    until it is stopped)."""
    import uvicorn
    from fastapi import FastAPI

    def run(app: object, **_options: object) -> None:
        assert isinstance(app, FastAPI)

    monkeypatch.setattr(uvicorn, "run", run)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_of_every_command_exits_cleanly(command, tmp_path_factory):
    click_command = COMMANDS[command]
    params = list(click_command.params)
    options = [p for p in params if p.param_type_name == "option"]
    arguments = [p for p in params if p.param_type_name == "argument"]

    @settings(
        max_examples=EXAMPLES_PER_COMMAND,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(
        chosen=st.lists(st.tuples(st.integers(0, max(len(options) - 1, 0)), values), max_size=4),
        picks=st.lists(st.integers(0, 10), min_size=3, max_size=3),
        drop_argument=st.booleans(),
        extra=st.sampled_from([[], ["--no-such-option"], ["--json", "--json"], ["--help"]]),
    )
    def check(chosen, picks, drop_argument, extra) -> None:
        folder = tmp_path_factory.mktemp("cli")
        files = _files(folder)
        args = command.split()
        # without its file, `perf validate` reads the 410 shipped cases (minutes with --cv)
        drop_argument = drop_argument and command != "perf validate"
        for index, param in enumerate(arguments):
            if drop_argument and index == len(arguments) - 1:
                break
            args.append(_positional(command, param.name, files, picks[index % 3]))
        for index, raw in chosen:
            if not options:
                break
            option = options[index]
            args.append(option.opts[0])
            if not getattr(option, "is_flag", False):
                value = raw
                if option.opts[0] in {"--html", "--out", "-o"} and picks[0] % 2:
                    value = str(folder / "out" / "report.html")
                if option.opts[0] == "--samples" and value.isdigit() and int(value) > 1000:
                    value = "1000"
                args.append(value)
        args += extra
        try:
            with fuzzing.time_limit(TIMEOUT_S):
                fuzzing.check_cli(args, folder)
        except fuzzing.Hang:
            pytest.fail(f"arbiter {' '.join(args)} took more than {TIMEOUT_S} s")
        except fuzzing.CliFailure as exc:
            pytest.fail(f"arbiter {' '.join(args)}: {exc}")

    check()
