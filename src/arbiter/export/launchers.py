"""Launcher files for a fleet plan: one SkyPilot task or dstack run configuration per assignment.

The input is the plan document ``arbiter plan`` writes (a plain mapping). Each exporter
returns ``(file name, YAML text)`` pairs; nothing is written to disk here.

Field names follow the launchers' own references:

* SkyPilot task YAML (docs.skypilot.co, ``reference/yaml-spec``): ``name``, ``num_nodes``,
  ``resources.infra`` (``<cloud>/<region>``, the current spelling; SkyPilot rejects ``infra``
  together with the older ``cloud``/``region`` keys, so ``legacy_location=True`` emits
  ``cloud`` + ``region`` instead, for SkyPilot releases before ``infra`` existed),
  ``resources.accelerators`` (``<name>:<count>``; TPUs are named by slice, count 1),
  ``resources.use_spot`` and ``resources.instance_type``.
* dstack run configurations (``dstack._internal.core.models.configurations`` and
  ``profiles``): ``type: task`` with ``nodes``, or ``type: service`` with ``port`` and
  ``replicas``; ``resources.gpu`` (``<name>[:<memory>]:<count>``, TPUs as ``v6e-8``);
  ``backends``, ``regions``, ``instance_types``, ``spot_policy`` (``spot`` | ``on-demand``)
  and ``reservation`` (AWS Capacity Reservations and Capacity Blocks).

Reserved, committed and capacity-block capacity cannot be bought by either launcher: the
files launch on demand (or spot) and carry a comment saying what must be reserved first.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from arbiter.domain.errors import InputError
from arbiter.domain.limits import check_nesting

__all__ = ["read_plan", "to_dstack", "to_json", "to_skypilot"]

_PLAN_VALID = "a plan written by `arbiter plan --json` (a JSON object with an assignments list)"
# The longest workload slug used in a file name (file systems allow 255 bytes a name).
_MAX_SLUG = 80

_RESERVED_REGIMES = frozenset({"reserved_1y", "reserved_3y", "capacity_block", "committed"})

# arbiter provider -> SkyPilot cloud. CoreWeave is a storage-only cloud in SkyPilot; its GPUs
# are reached through SkyPilot's Kubernetes cloud (a CKS cluster's kubeconfig context).
_SKYPILOT_CLOUDS: dict[str, str] = {
    "aws": "aws",
    "azure": "azure",
    "coreweave": "kubernetes",
    "gcp": "gcp",
    "lambda": "lambda",
    "oci": "oci",
    "runpod": "runpod",
}

# arbiter provider -> dstack backend (dstack's BackendType values). CoreWeave again through
# the Kubernetes backend.
_DSTACK_BACKENDS: dict[str, str] = {
    "aws": "aws",
    "azure": "azure",
    "coreweave": "kubernetes",
    "gcp": "gcp",
    "lambda": "lambda",
    "oci": "oci",
    "runpod": "runpod",
}

# arbiter accelerator -> SkyPilot accelerator name (names not listed pass through unchanged;
# SkyPilot matches accelerator names case-insensitively against its catalog).
_SKYPILOT_ACCELERATORS: dict[str, str] = {
    "H100-SXM": "H100",
    "H100-PCIe": "H100",
    "H100-NVL": "H100",
    "H200-SXM": "H200",
    "H200-NVL": "H200",
    "A100-SXM-80GB": "A100-80GB",
    "A100-PCIe-80GB": "A100-80GB",
    "A100-SXM-40GB": "A100",
    "Trainium1": "Trainium",
}

# arbiter accelerator -> dstack GPU name (with memory where the name alone is ambiguous).
_DSTACK_GPUS: dict[str, str] = {
    "H100-SXM": "H100",
    "H100-PCIe": "H100",
    "H100-NVL": "H100:94GB",
    "H200-SXM": "H200",
    "H200-NVL": "H200",
    "A100-SXM-80GB": "A100:80GB",
    "A100-PCIe-80GB": "A100:80GB",
    "A100-SXM-40GB": "A100:40GB",
}

# dstack supports NVIDIA, AMD, Google TPU, Intel Gaudi and Tenstorrent accelerators.
_DSTACK_UNSUPPORTED_VENDORS = frozenset({"AWS"})

# TPU generation -> (SkyPilot prefix, dstack prefix, slice-name units per chip). v4 and v5p
# slices are named by TensorCores (two per chip), v5e and v6e by chips.
_TPUS: dict[str, tuple[str, str, int]] = {
    "TPU-v4": ("tpu-v4", "v4", 2),
    "TPU-v5e": ("tpu-v5litepod", "v5litepod", 1),
    "TPU-v5p": ("tpu-v5p", "v5p", 2),
    "TPU-v6e": ("tpu-v6e", "v6e", 1),
}

_MACHINE_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SERVICE_PORT = 8000


def read_plan(path: Path) -> dict[str, Any]:
    """The plan document in the JSON file at ``path``; unreadable input is an InputError."""
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:  # missing, a directory, unreadable, a name too long
        raise InputError(
            f"cannot read the plan: {exc.strerror or exc}", file=file, valid=_PLAN_VALID
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the plan is not UTF-8 text (byte {exc.start})", file=file, valid=_PLAN_VALID
        ) from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the plan is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
            file=file,
            valid=_PLAN_VALID,
        ) from None
    except (RecursionError, ValueError) as exc:
        why = "nests too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InputError(f"the plan cannot be read: {why}", file=file, valid=_PLAN_VALID) from None
    check_nesting(doc, file=file, what="plan")
    if not isinstance(doc, dict):
        raise InputError(
            f"the plan is a JSON {type(doc).__name__}, not an object", file=file, valid=_PLAN_VALID
        )
    return doc


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number arbiter writes")


def to_json(plan: Mapping[str, Any]) -> str:
    """The plan as stable JSON: sorted keys, two-space indent, trailing newline."""
    return json.dumps(plan, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def to_skypilot(plan: Mapping[str, Any], *, legacy_location: bool = False) -> list[tuple[str, str]]:
    """One SkyPilot task YAML per assignment, as ``(file name, text)``."""
    return _export(plan, suffix=".sky.yaml", render=_skypilot_one, legacy=legacy_location)


def to_dstack(plan: Mapping[str, Any]) -> list[tuple[str, str]]:
    """One dstack run configuration (``task`` or ``service``) per assignment."""
    return _export(plan, suffix=".dstack.yml", render=_dstack_one, legacy=False)


# --- shared ---------------------------------------------------------------------------


class _Assignment:
    """Typed, validated view of one assignment of the plan."""

    def __init__(self, raw: Any, index: int) -> None:
        self.where = f"assignments[{index}]"
        if not isinstance(raw, Mapping):
            raise InputError("an assignment must be a mapping", field=self.where)
        self.raw = raw
        self.workload = self._str("workload")
        self.kind = self._str("kind")
        self.provider = self._str("provider")
        self.region = self._str("region")
        self.instance_type = self._str("instance_type")
        self.accelerator = self._str("accelerator")
        self.vendor = str(raw.get("vendor") or "")
        self.regime = self._str("price_regime")
        self.offer_id = str(raw.get("offer_id") or "")
        self.instance_count = self._int("instance_count")
        self.per_instance = self._int("accelerators_per_instance")
        replicas = raw.get("replicas")
        self.replicas = int(replicas) if isinstance(replicas, int) and replicas > 0 else None
        self.hours = self._amount("hours")
        self.usd = self._amount("usd")

    def _str(self, key: str) -> str:
        value = self.raw.get(key)
        if not isinstance(value, str) or not value:
            raise InputError("missing or empty text", field=f"{self.where}.{key}")
        return value

    def _int(self, key: str) -> int:
        value = self.raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**9:
            raise InputError(
                "must be a whole number",
                field=f"{self.where}.{key}",
                valid="1 to 1,000,000,000",
            )
        return value

    def _amount(self, key: str) -> float:
        """An optional non-negative finite number (hours, dollars); absent means 0."""
        value = self.raw.get(key)
        if value is None:
            return 0.0
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        number = float(value) if ok and abs(value) < 1e300 else math.nan
        if not (math.isfinite(number) and number >= 0):
            raise InputError(
                "must be a number",
                field=f"{self.where}.{key}",
                valid="a finite number >= 0 (below 1e300)",
            )
        return number

    @property
    def label(self) -> str:
        return f"{self.where} (workload {self.workload!r})"

    @property
    def is_tpu(self) -> bool:
        return self.accelerator.startswith("TPU")

    @property
    def machine_type(self) -> str | None:
        """The catalog instance type when it is a real machine type, not a catalog label."""
        it = self.instance_type
        if self.is_tpu or not _MACHINE_TYPE.fullmatch(it):
            return None
        return it

    def tpu_slice(self, *, dstack: bool) -> str:
        """The slice name of a TPU assignment (``tpu-v6e-8`` or, for dstack, ``v6e-8``)."""
        if self.instance_type.startswith("tpu-") and _MACHINE_TYPE.fullmatch(self.instance_type):
            name = self.instance_type  # catalog rows from SkyPilot's catalog carry the slice
            return name.removeprefix("tpu-") if dstack else name
        known = _TPUS.get(self.accelerator)
        if known is None:
            raise InputError(
                f"{self.label}: no launcher name is known for {self.accelerator}",
                field=f"{self.where}.accelerator",
                valid=", ".join(sorted(_TPUS)),
            )
        sky_prefix, dstack_prefix, units = known
        return f"{dstack_prefix if dstack else sky_prefix}-{self.per_instance * units}"


def _export(
    plan: Mapping[str, Any],
    *,
    suffix: str,
    render: Callable[[_Assignment, bool], str],
    legacy: bool,
) -> list[tuple[str, str]]:
    if not isinstance(plan, Mapping):
        raise InputError("the plan must be a JSON object")
    raw = plan.get("assignments")
    if not isinstance(raw, list):
        raise InputError("the plan has no list of assignments", field="assignments")
    files: list[tuple[str, str]] = []
    used: set[str] = set()
    for index, item in enumerate(raw):
        assignment = _Assignment(item, index)
        files.append((_unique_name(assignment.workload, suffix, used), render(assignment, legacy)))
    return files


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:_MAX_SLUG].rstrip("-") or "workload"


def _unique_name(workload: str, suffix: str, used: set[str]) -> str:
    base = _slug(workload)
    name, n = f"{base}{suffix}", 1
    while name in used:
        n += 1
        name = f"{base}-{n}{suffix}"
    used.add(name)
    return name


def _header(a: _Assignment, target: str) -> list[str]:
    lines = [
        f"# {target} configuration generated by arbiter for workload {a.workload!r} ({a.kind}).",
        (
            f"# Offer {a.offer_id or '?'}: {a.instance_count} x {a.instance_type} "
            f"({a.per_instance} x {a.accelerator}) on {a.provider}/{a.region}, {a.regime}."
        ),
        f"# Planned: {a.hours:,.1f} h, ${a.usd:,.2f}.",
    ]
    if a.machine_type is None and not a.is_tpu:
        lines.append(
            f"# The catalog instance type {a.instance_type!r} is a price-list label, "
            "not a machine type: the launcher picks the machine from the accelerators."
        )
    return lines


def _placeholder(a: _Assignment, extra: str = "") -> str:
    """A harmless shell command standing in for the workload's real one."""
    return f"echo 'arbiter: put the {a.kind} command for {_slug(a.workload)} here{extra}'"


def _dump(header: list[str], body: Mapping[str, Any]) -> str:
    text = yaml.safe_dump(dict(body), sort_keys=False, default_flow_style=False, width=1000)
    return "\n".join(_comment(line) for line in header) + "\n" + text


def _comment(line: str) -> str:
    # keep every header line a single YAML comment whatever the workload name holds
    return line.replace("\r", " ").replace("\n", " ")


def _unknown_provider(a: _Assignment, target: str, known: Mapping[str, str]) -> InputError:
    return InputError(
        f"{a.label}: {target} cannot launch on provider {a.provider!r}",
        field=f"{a.where}.provider",
        valid=", ".join(sorted(known)),
    )


# --- SkyPilot -------------------------------------------------------------------------


def _skypilot_one(a: _Assignment, legacy: bool) -> str:
    cloud = _SKYPILOT_CLOUDS.get(a.provider)
    if cloud is None:
        raise _unknown_provider(a, "SkyPilot", _SKYPILOT_CLOUDS)
    header = _header(a, "SkyPilot task")
    resources: dict[str, Any] = {}
    if cloud == "kubernetes":
        header.append(
            f"# {a.provider} GPUs are reached through SkyPilot's Kubernetes cloud: point "
            f"infra at the kubeconfig context of the {a.region} cluster (k8s/<context>)."
        )
        if legacy:
            resources["cloud"] = "kubernetes"
        else:
            resources["infra"] = "k8s"
    elif legacy:
        resources["cloud"] = cloud
        resources["region"] = a.region
    else:
        resources["infra"] = f"{cloud}/{a.region}"

    if a.is_tpu:
        resources["accelerators"] = a.tpu_slice(dstack=False)
    else:
        name = _SKYPILOT_ACCELERATORS.get(a.accelerator, a.accelerator)
        resources["accelerators"] = f"{name}:{a.per_instance}"
    resources["use_spot"] = a.regime == "spot"
    if a.machine_type is not None and cloud != "kubernetes":
        resources["instance_type"] = a.machine_type

    if a.regime in _RESERVED_REGIMES:
        header.extend(_skypilot_reservation_note(a))
    if a.kind == "serve" and a.replicas is not None:
        header.append(
            f"# Serving plan: {a.replicas} replica(s); to autoscale, wrap this task in a "
            "SkyPilot `service:` section and launch it with `sky serve up`."
        )
    body: dict[str, Any] = {"name": a.workload, "num_nodes": a.instance_count}
    body["resources"] = resources
    body["run"] = _placeholder(a)
    return _dump(header, body)


def _skypilot_reservation_note(a: _Assignment) -> list[str]:
    lines = [
        f"# Price regime {a.regime}: this price holds only for capacity reserved beforehand.",
        "# SkyPilot launches on-demand or spot capacity; it uses a reservation only when the",
        "# reservation exists and is named in ~/.sky/config.yaml",
    ]
    if a.provider == "aws":
        lines.append(
            "# (aws.specific_reservations / aws.prioritize_reservations; for a Capacity "
            "Block, purchase it for these dates first and pin infra to its region and zone)."
        )
    elif a.provider == "gcp":
        lines.append("# (gcp.specific_reservations / gcp.prioritize_reservations).")
    else:
        lines.append(
            f"# or through {a.provider}'s own console: make sure the commitment covers "
            "these instances before launching."
        )
    return lines


# --- dstack ---------------------------------------------------------------------------


def _dstack_gpu(a: _Assignment) -> str:
    if a.is_tpu:
        return a.tpu_slice(dstack=True)
    if a.vendor in _DSTACK_UNSUPPORTED_VENDORS or a.accelerator.startswith(
        ("Trainium", "Inferentia")
    ):
        raise InputError(
            f"{a.label}: dstack cannot provision {a.accelerator}",
            field=f"{a.where}.accelerator",
            valid="NVIDIA, AMD, Google TPU, Intel Gaudi and Tenstorrent accelerators",
        )
    name = _DSTACK_GPUS.get(a.accelerator, a.accelerator)
    return f"{name}:{a.per_instance}"


def _dstack_one(a: _Assignment, _legacy: bool) -> str:
    backend = _DSTACK_BACKENDS.get(a.provider)
    if backend is None:
        raise _unknown_provider(a, "dstack", _DSTACK_BACKENDS)
    header = _header(a, "dstack run")
    service = a.kind == "serve"
    body: dict[str, Any] = {"type": "service" if service else "task", "name": _dstack_name(a)}
    command = _placeholder(a)
    if service:
        body["port"] = _SERVICE_PORT
        replicas = a.replicas or a.instance_count
        body["replicas"] = replicas
        if a.instance_count != replicas:
            header.append(
                f"# The plan spreads {replicas} replica(s) over {a.instance_count} instances; "
                "dstack services run one instance per replica."
            )
        command = _placeholder(a, f", listening on port {_SERVICE_PORT}")
    else:
        body["nodes"] = a.instance_count
    body["commands"] = [command]
    body["resources"] = {"gpu": _dstack_gpu(a)}
    body["backends"] = [backend]
    if backend == "kubernetes":
        header.append(
            f"# {a.provider} runs through dstack's Kubernetes backend: configure it with the "
            f"kubeconfig of the {a.region} cluster."
        )
    else:
        body["regions"] = [a.region]
    if a.machine_type is not None and backend != "kubernetes":
        body["instance_types"] = [a.machine_type]
    body["spot_policy"] = "spot" if a.regime == "spot" else "on-demand"
    if a.regime in _RESERVED_REGIMES:
        header.append(
            f"# Price regime {a.regime}: this price holds only for capacity reserved beforehand."
        )
        if a.provider == "aws":
            header.append(
                "# Reserve the AWS Capacity Reservation or Capacity Block first, then add "
                "`reservation: <its id>` to this file."
            )
        else:
            header.append(
                f"# Make sure the {a.provider} commitment covers these instances before running."
            )
    return _dump(header, body)


def _dstack_name(a: _Assignment) -> str:
    # dstack run names: lowercase letters, digits and dashes, starting with a letter
    slug = _slug(a.workload)
    if not slug[0].isalpha():
        slug = f"w-{slug}"
    return slug[:40].rstrip("-")
