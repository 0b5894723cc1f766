"""The fuzz harness shared by ``tests/fuzz/`` (a small, fixed budget in ``make test``) and
``scripts/fuzz.py`` (``make fuzz``: at least 10,000 inputs per loader).

A *target* is one loader: a seed corpus (the files in ``examples/`` and the feed samples in
``tests/data/feeds/``) and a function that reads one input file the way arbiter does, plus the
cheap work that follows the read (estimates for workloads, sampling for scenarios, launch files
for a plan, the catalog merge for a feed). Inputs are the seeds mutated two ways: structurally
(a value in the parsed YAML/JSON/CSV replaced with a hostile one: huge, tiny, negative, NaN, a
wrong type, a long or non-ASCII string, deep nesting) and byte by byte (flips, insertions,
deletions, duplicated spans, truncation, invalid UTF-8, YAML alias bombs).

The contract: reading any input either succeeds or raises an ``ArbiterError``. Any other
exception is a *crash*; an input that takes longer than the per-input timeout is a *hang*.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import random
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from arbiter.domain.errors import ArbiterError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
FEEDS = REPO / "tests" / "data" / "feeds"
PLANS = REPO / "tests" / "data" / "plans"
PERF = REPO / "tests" / "data" / "perf"


class Hang(BaseException):
    """Raised by the per-input alarm; a BaseException so ``except Exception`` cannot eat it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread when the block runs longer than ``seconds``."""

    def _alarm(_signum: int, _frame: object) -> None:
        raise Hang

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- hostile values and byte-level mutations ---------------------------------------------

HOSTILE_NUMBERS: tuple[Any, ...] = (
    0, -1, 1, 1e308, -1e308, 1e-308, 5e-324, 1e-320, 1e300, 1e30, 1e-30, 1e18,
    10**30, -(10**30), 2**63, 2**64 + 1, 10**400, 9.999e307, 0.5, -0.0, 1e9, 1e12,
)  # fmt: skip
HOSTILE_TEXT: tuple[str, ...] = (
    "", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e308", "1e-320", "-1", "0", "1e999",
    "99999999999999999999999999", "0x10", "null", "~", "yes", "é€😀", "\u202e", "\x00",
    "a" * 300, "x" * 5000, "../../etc/passwd", "H100", "aws", "us-east-1", "2026-13-45",
    "1,5", "1_000", "$1.00", "{{", "'", '"', "\\", "\n", "%s%n",
)  # fmt: skip
BYTE_TOKENS: tuple[bytes, ...] = (
    b"1e308", b"-1e308", b"1e-320", b"nan", b".nan", b".inf", b"-.inf", b"99999999999999999999",
    b"\xff\xfe", b"\xc3\x28", b"\x00", b"\t", b"\r\n", b"[", b"{", b"}", b"]", b":", b"- ",
    b"&a", b"*a", b"!!python/object:os.system", b"!!binary", b"'", b'"', b",", b";", b"#",
    b"---", b"...", b"%YAML 1.1", b"<<: *a", b"[" * 2000, b"{" * 2000, b"a" * 400,
)  # fmt: skip
ALIAS_BOMB = (
    b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    b"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    b"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def hostile_value(rnd: random.Random) -> Any:
    roll = rnd.random()
    if roll < 0.45:
        return rnd.choice(HOSTILE_NUMBERS)
    if roll < 0.8:
        return rnd.choice(HOSTILE_TEXT)
    if roll < 0.85:
        return None
    if roll < 0.9:
        return rnd.choice([True, False])
    if roll < 0.95:
        depth = rnd.choice([3, 50, 200, 1200])
        value: Any = 1
        for _ in range(depth):
            value = [value] if rnd.random() < 0.5 else {"k": value}
        return value
    return rnd.choice([[], {}, [1, 2], {"a": 1}])


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _paths(value, (*prefix, index))


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(doc, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in doc.items()}
    return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(doc)]


def mutate_tree(doc: Any, rnd: random.Random, value: Any = None, *, count: int = 1) -> Any:
    """``doc`` with ``count`` values (or keys removed/renamed) replaced by hostile ones."""
    for _ in range(count):
        paths = list(_paths(doc))
        path = rnd.choice(paths[1:] or paths)
        op = rnd.random()
        new = hostile_value(rnd) if value is None else value
        if op < 0.1 and path:  # drop the field
            parent = path[:-1]
            container = doc
            for part in parent:
                container = container[part]
            if isinstance(container, dict):
                pruned = {k: v for k, v in container.items() if k != path[-1]}
                doc = _replace(doc, parent, pruned)
                continue
        if op < 0.15 and path and isinstance(path[-1], str):  # a misspelt key
            parent = path[:-1]
            container = doc
            for part in parent:
                container = container[part]
            renamed = {(f"{k}x" if k == path[-1] else k): v for k, v in container.items()}
            doc = _replace(doc, parent, renamed)
            continue
        doc = _replace(doc, path, new)
    return doc


def mutate_bytes(data: bytes, rnd: random.Random) -> bytes:
    """One to four byte-level edits of ``data``."""
    buf = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        n = len(buf)
        op = rnd.randrange(8)
        at = rnd.randrange(n + 1) if n else 0
        if op == 0 and n:
            buf[min(at, n - 1)] = rnd.randrange(256)
        elif op == 1:
            buf[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 8)))
        elif op == 2 and n:
            del buf[at : at + rnd.randint(1, 64)]
        elif op == 3 and n:
            span = bytes(buf[at : at + rnd.randint(1, 200)])
            buf[at:at] = span * rnd.randint(1, 5)
        elif op == 4:
            del buf[at:]  # a broken download
        elif op == 5:
            buf[at:at] = rnd.choice(BYTE_TOKENS)
        elif op == 6 and n:  # replace a number with a huge or tiny one
            digits = [i for i in range(n) if 48 <= buf[i] <= 57]
            if digits:
                i = rnd.choice(digits)
                buf[i : i + 1] = rnd.choice([b"1e308", b"1e-320", b"9" * 40, b"-1", b"nan"])
        elif op == 7:
            buf = bytearray(ALIAS_BOMB) if rnd.random() < 0.2 else buf + b"\n" + ALIAS_BOMB[:60]
    return bytes(buf)


# --- documents: parse a seed, dump it back in its own format ------------------------------


def parse_doc(kind: str, data: bytes) -> Any:
    text = data.decode("utf-8")
    if kind == "yaml":
        return yaml.safe_load(text)
    if kind == "json":
        return json.loads(text)
    return list(csv.reader(io.StringIO(text)))


def dump_doc(kind: str, doc: Any) -> bytes:
    if kind == "yaml":
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode()
    if kind == "json":
        return json.dumps(doc, ensure_ascii=False).encode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in doc:
        writer.writerow(
            [("" if v is None else v) if not isinstance(v, list | dict) else "[]" for v in row]
        )
    return out.getvalue().encode()


@dataclass
class Seed:
    name: str
    data: bytes
    kind: str  # yaml | json | csv
    doc: Any = None

    def __post_init__(self) -> None:
        self.doc = parse_doc(self.kind, self.data)


def mutate(seed: Seed, rnd: random.Random) -> bytes:
    """One input derived from ``seed``: structural (60%) or byte-level (40%) mutation."""
    if rnd.random() < 0.6:
        try:
            doc = mutate_tree(seed.doc, rnd, count=rnd.choice([1, 1, 1, 2, 3]))
            return dump_doc(seed.kind, doc)
        except (RecursionError, ValueError, TypeError):
            pass
    return mutate_bytes(seed.data, rnd)


# --- targets: one per loader -------------------------------------------------------------


@dataclass
class Target:
    name: str
    seeds: list[Seed]
    run: Callable[[Path], object]
    suffix: str = ".yaml"
    folder_files: dict[str, bytes] = field(default_factory=dict)


def _seed(path: Path, kind: str | None = None) -> Seed:
    kind = kind or {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".csv": "csv"}[path.suffix]
    return Seed(path.name, path.read_bytes(), kind)


@dataclass
class _Shared:
    catalog: Any = None
    accelerators: Any = None
    efficiency: Any = None
    prices: Any = None


_SHARED = _Shared()


def _shared() -> _Shared:
    if _SHARED.catalog is None:
        from arbiter.catalog.embedded import default_catalog
        from arbiter.perf.efficiency import default_efficiency
        from arbiter.perf.pricing import PriceBook

        _SHARED.catalog = default_catalog()
        _SHARED.accelerators = list(_SHARED.catalog.accelerators.values())
        _SHARED.efficiency = default_efficiency()
        _SHARED.prices = PriceBook(_SHARED.catalog)
    return _SHARED


def _run_workloads(path: Path) -> object:
    from arbiter.perf.estimate import estimate_workload
    from arbiter.workloads import load_workloads

    shared = _shared()
    return [
        estimate_workload(w, shared.accelerators, shared.efficiency, shared.prices)
        for w in load_workloads(path)
    ]


def _run_fleet(path: Path) -> object:
    from arbiter.optimize.options import build_options
    from arbiter.workloads.fleet import load_fleet

    shared = _shared()
    fleet = load_fleet(path)
    return build_options(fleet, shared.catalog, shared.efficiency)


def _run_scenarios(path: Path) -> object:
    from arbiter.scenarios.loading import load_scenarios
    from arbiter.scenarios.sampling import sample_all

    return sample_all(load_scenarios(path), 64, 7)


def _run_procure(path: Path) -> object:
    from arbiter.procure.loading import load_procurement

    return load_procurement(path)


def _run_deal(path: Path) -> object:
    from arbiter.deals.loading import load_deal

    return load_deal(path)


def _run_cases(path: Path) -> object:
    from arbiter.perf.cases import read_cases
    from arbiter.perf.validation import validate

    shared = _shared()
    return validate(read_cases(path), shared.catalog.accelerators, shared.efficiency)


def _run_export(path: Path) -> object:
    from arbiter.export.launchers import read_plan, to_dstack, to_json, to_skypilot

    doc = read_plan(path)
    return to_json(doc), to_skypilot(doc), to_skypilot(doc, legacy_location=True), to_dstack(doc)


def _feed_runner(source: str, provider: str | None = None) -> Callable[[Path], object]:
    def run(path: Path) -> object:
        from arbiter.catalog.importing import import_feeds

        shared = _shared()
        return import_feeds(
            shared.catalog, source, [path], observed_on=dt.date(2026, 11, 1), provider=provider
        )

    return run


class CliFailure(Exception):  # noqa: N818 - reported as the crash it stands for
    """``arbiter`` exited with a code outside :data:`CLI_EXIT_CODES` or printed a traceback."""


# 6 and 7: `catalog refresh` with some or every price feed failing (offline in the fuzz run)
CLI_EXIT_CODES = frozenset({0, 2, 3, 4, 5, 6, 7})


def run_cli(args: list[str], folder: Path) -> tuple[int, str]:
    """``arbiter ARGS`` in-process against a store in ``folder``; (exit code, all output)."""
    import os
    from contextlib import redirect_stderr, redirect_stdout

    from arbiter.cli.app import main

    env = {
        "ARBITER_DB_URL": f"sqlite:///{folder / 'arbiter.db'}",
        "ARBITER_TODAY": "2026-11-29",
        "COLUMNS": "200",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    buffer = io.StringIO()
    try:
        # in ``folder``: a relative --html or --out value must not land in the repository
        with contextlib.chdir(folder), redirect_stdout(buffer), redirect_stderr(buffer):
            code = main(args)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return code, buffer.getvalue()


def check_cli(args: list[str], folder: Path) -> None:
    code, output = run_cli(args, folder)
    if code not in CLI_EXIT_CODES or "Traceback" in output:
        raise CliFailure(f"exit {code}: {output.strip()[-300:]}")


def _cli_runner(*command: str) -> Callable[[Path], object]:
    def run(path: Path) -> object:
        check_cli([*command[:1], str(path), *command[1:]], path.parent)
        return None

    return run


def cli_targets() -> list[Target]:
    """The commands that solve (slow: about a second an input), on mutated inputs."""
    return [
        Target("cli-plan", [_seed(EXAMPLES / "fleet.yaml")], _cli_runner("plan", "--json")),
        Target("cli-procure", [_seed(EXAMPLES / "procure.yaml")], _cli_runner("procure")),
        Target(
            "cli-risk",
            [_seed(EXAMPLES / "fleet.yaml")],
            _cli_runner("risk", "--scenarios", str(EXAMPLES / "scenarios.yaml"), "--samples", "50"),
        ),
        Target(
            "cli-export",
            [_seed(PLANS / "sample_plan.json")],
            _cli_runner("export", "--format", "dstack"),
            ".json",
        ),
    ]


def targets() -> list[Target]:
    deal_dir = EXAMPLES / "deals"
    deal_files = {p.name: p.read_bytes() for p in deal_dir.glob("*.yaml")}
    sky = FEEDS / "skypilot-catalog"
    return [
        Target("workloads", [_seed(EXAMPLES / "workloads.yaml")], _run_workloads),
        Target("fleet", [_seed(EXAMPLES / "fleet.yaml")], _run_fleet),
        Target(
            "scenarios",
            [_seed(EXAMPLES / "scenarios.yaml"), _seed(deal_dir / "scenarios.yaml")],
            _run_scenarios,
        ),
        Target(
            "procure",
            [_seed(EXAMPLES / "procure.yaml"), _seed(deal_dir / "lab.yaml")],
            _run_procure,
        ),
        Target(
            "deal",
            [_seed(p) for p in sorted(deal_dir.glob("t*.yaml"))],
            _run_deal,
            folder_files=deal_files,
        ),
        Target("perf-cases", [_seed(PERF / "perf-calibration-cases.csv")], _run_cases, ".csv"),
        Target("export", [_seed(PLANS / "sample_plan.json")], _run_export, ".json"),
        Target(
            "feed-skypilot",
            [_seed(p) for p in sorted(sky.glob("*.csv"))],
            _feed_runner("skypilot"),
            ".csv",
        ),
        Target(
            "feed-azure",
            [_seed(FEEDS / "azure-retail-prices.sample.json")],
            _feed_runner("azure"),
            ".json",
        ),
        Target(
            "feed-aws-json",
            [_seed(FEEDS / "aws-price-list-offer.sample.json")],
            _feed_runner("aws"),
            ".json",
        ),
        Target(
            "feed-aws-csv",
            [_seed(FEEDS / "aws-price-list-offer.sample.csv", "csv")],
            _feed_runner("aws"),
            ".csv",
        ),
        Target(
            "feed-aws-savings-plan",
            [_seed(FEEDS / "aws-savings-plan-rates.sample.csv", "csv")],
            _feed_runner("aws-savings-plan"),
            ".csv",
        ),
        Target(
            "feed-gcp",
            [_seed(FEEDS / "gcp-cloud-billing-catalog-skus.sample.json")],
            _feed_runner("gcp"),
            ".json",
        ),
        Target(
            "feed-gpuhunt",
            [_seed(FEEDS / "gpuhunt-catalog-v2.sample.csv")],
            _feed_runner("gpuhunt", "aws"),
            ".csv",
        ),
        Target(
            "feed-runpod",
            [_seed(FEEDS / "runpod-graphql-gputypes.sample.json")],
            _feed_runner("runpod"),
            ".json",
        ),
    ]


# --- running ----------------------------------------------------------------------------


@dataclass
class Outcome:
    tried: int = 0
    accepted: int = 0
    rejected: int = 0
    crashes: list[tuple[bytes, str, str]] = field(default_factory=list)
    hangs: list[tuple[bytes, str]] = field(default_factory=list)
    seconds: float = 0.0


def run_one(
    target: Target, data: bytes, folder: Path, *, timeout: float, name: str | None = None
) -> str | None:
    """Feed ``data`` to ``target`` as file ``name`` (default ``input`` + the target's suffix).

    Returns None when rejected with an ArbiterError, "" when accepted, "hang" on timeout and
    otherwise the uncaught exception."""
    for extra, content in target.folder_files.items():
        path = folder / extra
        if not path.exists():
            path.write_bytes(content)
    path = folder / (name or f"input{target.suffix}")
    if path.name in target.folder_files:  # never overwrite a file the input refers to
        path = folder / f"input-{path.name}"
    path.write_bytes(data)
    try:
        with time_limit(timeout):
            target.run(path)
    except ArbiterError:
        return None
    except Hang:
        return "hang"
    except Exception as exc:  # noqa: BLE001 - anything else is the crash being looked for
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    return ""


def fuzz(target: Target, *, n: int, seed: int, timeout: float) -> Outcome:
    """Try ``n`` mutated inputs (the seeds themselves first) against ``target``."""
    rnd = random.Random(f"{seed}:{target.name}")
    outcome = Outcome()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target.name}-") as tmp:
        folder = Path(tmp)
        for i in range(n):
            seed_file = target.seeds[i] if i < len(target.seeds) else rnd.choice(target.seeds)
            data = seed_file.data if i < len(target.seeds) else mutate(seed_file, rnd)
            result = run_one(target, data, folder, timeout=timeout, name=seed_file.name)
            outcome.tried += 1
            if result is None:
                outcome.rejected += 1
            elif result == "":
                outcome.accepted += 1
            elif result == "hang":
                outcome.hangs.append((data, seed_file.name))
            else:
                outcome.crashes.append((data, result, seed_file.name))
    outcome.seconds = time.perf_counter() - start
    return outcome
