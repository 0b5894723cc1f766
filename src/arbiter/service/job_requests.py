"""The requests of the service's jobs, checked before a job is made (formats:
:mod:`arbiter.service.jobs`).

:func:`check_request` parses every document of a request with the loaders the CLI uses
(``arbiter.load_fleet``, the workload, scenario, procurement and deal parsers), so bad input
is an :class:`InputError` naming the request's field (``fleet.workloads[0].model``) before
any job exists. It returns the request in one form: defaults filled in, every document kept
as it was sent (a mapping, or YAML text). A string is always YAML text, never a path: the
server reads no file a request names. A deal's procurement and scenario files are sent
inline and written, for the deal loader, into a private folder (:func:`deal_folder`).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from arbiter.api.loading import Source, read_source
from arbiter.api.loading import load_fleet as api_load_fleet
from arbiter.api.loading import load_scenarios as api_load_scenarios
from arbiter.deals.loading import parse_deal
from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.fleet import GROUPS, Fleet
from arbiter.domain.limits import shown
from arbiter.procure.loading import parse_procurement
from arbiter.store import JobStore, PlanStore
from arbiter.workloads import parse_workloads

MAX_SAMPLES = 1_000_000
MAX_TOP = 1_000
MAX_CAPS = 20
MAX_SEED = 2**31 - 1
DEAL_FILES = {"procurement": "procurement.yaml", "scenarios": "scenarios.yaml"}
"""The names a deal's inline procurement and scenarios are written under for its loader."""

KEYS: dict[str, tuple[str, ...]] = {
    "estimate": ("workloads", "top"),
    "plan": ("fleet", "save", "sweep"),
    "risk": ("plan_id", "fleet", "scenarios", "samples", "seed", "recourse"),
    "procure": ("procurement", "frontier"),
    "deal": ("deal", "procurement", "scenarios", "samples"),
}
_DOCUMENT = "a mapping, or the YAML text of the file (never a path: the server reads no files)"


def check_request(
    kind: str, request: object, *, jobs: JobStore, plans: PlanStore
) -> dict[str, Any]:
    """The request of a ``kind`` job, checked and with its defaults; bad input is an
    InputError naming the field. ``plans`` resolves a risk request's ``plan_id`` and
    ``jobs`` finds the fleet it was made from."""
    if not isinstance(request, Mapping) or not all(isinstance(k, str) for k in request):
        raise InputError(
            f"the request is a {type(request).__name__}, not a mapping",
            field="request",
            valid=f"a mapping with the keys {', '.join(KEYS[kind])}",
        )
    for key in request:
        if key not in KEYS[kind]:
            raise InputError(
                f"a {kind} request has no key {shown(key)}",
                field=key,
                valid=", ".join(KEYS[kind]),
            )
    return _CHECKS[kind](request, jobs, plans)


# -- one check per kind ----------------------------------------------------------------------


def _estimate(request: Mapping[str, Any], _jobs: JobStore, _plans: PlanStore) -> dict[str, Any]:
    out: dict[str, Any] = _numbers(request, top=(1, MAX_TOP))
    out["workloads"] = _parsed(request, "workloads", "workload", parse_workloads)
    return out


def _plan(request: Mapping[str, Any], _jobs: JobStore, _plans: PlanStore) -> dict[str, Any]:
    out: dict[str, Any] = {"save": flag(request, "save", default=True)}
    sweep = request.get("sweep")
    if sweep is not None:
        out["sweep"] = _sweep(sweep)
    out["fleet"] = document(request, "fleet")
    load_fleet(out["fleet"], "fleet")
    return out


def _sweep(sweep: object) -> dict[str, Any]:
    valid = f"a mapping {{group: {' | '.join(GROUPS)}, caps: [1.0, 0.8, ...]}}"
    if not isinstance(sweep, Mapping) or set(sweep) != {"group", "caps"}:
        raise InputError("is not a sweep", field="sweep", valid=valid)
    group = sweep["group"]
    if group not in GROUPS:
        raise InputError(
            f"cannot sweep {shown(group)}", field="sweep.group", valid=", ".join(GROUPS)
        )
    caps = sweep["caps"]
    if not isinstance(caps, list) or not 1 <= len(caps) <= MAX_CAPS:
        raise InputError(
            "is not a list of caps", field="sweep.caps", valid=f"1 to {MAX_CAPS} shares in (0, 1]"
        )
    for i, cap in enumerate(caps):
        if not _real(cap) or not 0 < cap <= 1:
            raise InputError(
                f"{shown(cap)} is not a share", field=f"sweep.caps[{i}]", valid="a number in (0, 1]"
            )
    return {"group": group, "caps": [float(c) for c in caps]}


def _risk(request: Mapping[str, Any], jobs: JobStore, plans: PlanStore) -> dict[str, Any]:
    out = _numbers(request, samples=(1, MAX_SAMPLES), seed=(0, MAX_SEED))
    out["recourse"] = flag(request, "recourse", default=False)
    plan_id = request.get("plan_id")
    fleet = document(request, "fleet") if plan_id is None else maybe_document(request, "fleet")
    if plan_id is not None:
        if not isinstance(plan_id, str) or not plan_id.strip():
            raise InputError("is not a plan id", field="plan_id", valid="a saved plan's id")
        try:
            out["plan_id"] = plans.resolve(plan_id)
        except UnknownNameError:
            raise UnknownNameError("plan", plan_id, [], field="plan_id") from None
        except InputError as exc:  # a prefix too short or ambiguous
            raise InputError(exc.message, field="plan_id", valid=exc.valid) from None
        if fleet is None:
            fleet = _fleet_of_plan(out["plan_id"], jobs)
    assert fleet is not None
    out["fleet"] = fleet
    load_fleet(fleet, "fleet")
    scenarios = document(request, "scenarios")
    with named("scenarios"):
        api_load_scenarios(scenarios)
    out["scenarios"] = scenarios
    return out


def _fleet_of_plan(plan_id: str, jobs: JobStore) -> Source:
    """The fleet a plan made through the server was made from (its plan job's request)."""
    job = jobs.find_result_ref("plan", plan_id)
    if job is None:
        raise InputError(
            f"plan {plan_id} was not made through the server, so its fleet is not known",
            field="plan_id",
            valid="a plan made by a plan job, or send the fleet it was made from as fleet",
        )
    fleet: Source = jobs.request(job.job_id)["fleet"]
    return fleet


def _procure(request: Mapping[str, Any], _jobs: JobStore, _plans: PlanStore) -> dict[str, Any]:
    out: dict[str, Any] = {"frontier": flag(request, "frontier", default=False)}
    out["procurement"] = _parsed(request, "procurement", "procurement", parse_procurement)
    return out


def _deal(request: Mapping[str, Any], _jobs: JobStore, _plans: PlanStore) -> dict[str, Any]:
    out = _numbers(request, samples=(0, MAX_SAMPLES))
    out["deal"] = document(request, "deal")
    for key in DEAL_FILES:
        value = maybe_document(request, key)
        if value is not None:
            out[key] = value
    with deal_folder(out) as (deal, folder, files), named("deal", files):
        parse_deal(deal, file="<mapping>", base=folder)
    return out


_CHECKS = {
    "estimate": _estimate,
    "plan": _plan,
    "risk": _risk,
    "procure": _procure,
    "deal": _deal,
}


# -- what the checks and the jobs share ------------------------------------------------------


def document(request: Mapping[str, Any], key: str) -> Source:
    """The document under ``key``: a mapping, or YAML text (a one-line string too is
    text, never a path)."""
    found = maybe_document(request, key)
    if found is None:
        raise InputError("is missing", field=key, valid=_DOCUMENT)
    return found


def _parsed(
    request: Mapping[str, Any], key: str, what: str, parse: Callable[..., object]
) -> Source:
    """The document under ``key``, once ``parse`` (a ``what`` file's parser) accepts it."""
    source = document(request, key)
    with named(key):
        loaded = read_source(source, what)
        parse(loaded.data, file=loaded.name)
    return source


def maybe_document(request: Mapping[str, Any], key: str) -> Source | None:
    """The document under ``key`` (see :func:`document`), or None if it is not there."""
    value = request.get(key)
    if value is None:
        return None
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        return value if "\n" in value else value + "\n"
    raise InputError(f"is a {type(value).__name__}", field=key, valid=_DOCUMENT)


def load_fleet(fleet: Source, key: str) -> Fleet:
    """The fleet of the request's ``key``; a fleet naming spot trace files is refused."""
    with named(key):
        found = api_load_fleet(fleet)
    if found.spot.traces:
        raise InputError(
            "names spot trace files, and the server reads no files a request names",
            field=f"{key}.spot.traces",
            valid="a fleet without spot.traces (spot.outage_hours is fine)",
        )
    return found


def flag(request: Mapping[str, Any], key: str, *, default: bool) -> bool:
    value = request.get(key, default)
    if not isinstance(value, bool):
        raise InputError(f"{shown(value)} is not true or false", field=key, valid="true or false")
    return value


def _numbers(request: Mapping[str, Any], **bounds: tuple[int, int]) -> dict[str, Any]:
    """The whole numbers under the keys of ``bounds`` that the request gives, each within
    its (low, high)."""
    out: dict[str, Any] = {}
    for key, (low, high) in bounds.items():
        value = request.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InputError(
                f"{shown(value)} is not a whole number from {low:,} to {high:,}",
                field=key,
                valid=f"a whole number from {low:,} to {high:,}",
            )
        out[key] = value
    return out


def _real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@contextlib.contextmanager
def deal_folder(
    request: Mapping[str, Any],
) -> Iterator[tuple[dict[str, Any], Path, dict[str, str]]]:
    """The deal of a (checked) deal request as its loader reads it, a private folder
    holding its procurement and scenario files, and the request's field of each file
    written (path -> field, for :func:`named`). The deal's own ``procurement`` and
    ``scenarios`` keys may be mappings (written there) or names, which then need the
    request's key of the same name. A name is never read as a path."""
    import tempfile  # noqa: PLC0415 - only deals need a folder

    with named("deal"):
        data = read_source(request["deal"], "deal").data
    if not isinstance(data, Mapping):
        raise InputError("is not a mapping", field="deal", valid="a deal file's mapping")
    deal = dict(data)
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="arbiter-deal-") as tmp:
        folder = Path(tmp)
        for key, name in DEAL_FILES.items():
            inline, own = request.get(key), deal.get(key)
            if inline is not None and isinstance(own, Mapping):
                raise InputError(
                    f"the deal's {key} is given twice: inline in the deal and as the "
                    f"request's {key}",
                    field=key,
                    valid="one of them",
                )
            source = inline if inline is not None else own
            if source is None:
                continue
            if isinstance(source, str) and inline is None:
                raise InputError(
                    f"names the file {shown(source)}, and the server reads no files a "
                    "request names",
                    field=f"deal.{key}",
                    valid=f"the {key} inline (a mapping) in the deal, or as the request's {key}",
                )
            field = key if inline is not None else f"deal.{key}"
            with named(field):
                content = read_source(source, key).data
            (folder / name).write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
            files[str(folder / name)] = field
            deal[key] = name
        yield deal, folder, files


@contextlib.contextmanager
def named(key: str, files: Mapping[str, str] | None = None) -> Iterator[None]:
    """Input errors of the document under the request's ``key`` named by the request's
    fields (``fleet.workloads[0].model``) instead of ``<mapping>`` or ``<string>``; the
    errors of a file written to ``files`` (path -> key) by its key."""
    try:
        yield
    except InputError as exc:
        raise relabel(exc, key, files) from None


def relabel(exc: InputError, key: str, files: Mapping[str, str] | None = None) -> InputError:
    """``exc`` with its field named from the request's root (see :func:`named`)."""
    known = {"<mapping>": key, "<string>": key, **(files or {})}
    root = known.get(exc.file or "")
    if root is None:
        return exc
    field = f"{root}.{exc.field}" if exc.field else root
    return InputError(exc.message, field=field, valid=exc.valid)
