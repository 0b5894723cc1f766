"""The model registry: architectures by name (``data/models.yaml``) and custom ones inline.

Names are matched case-insensitively, with spaces and underscores read as dashes, through
the registry's ``aliases``; a Hugging Face id such as ``meta-llama/Llama-3.1-405B`` is read
as its last part. An unknown name raises :class:`UnknownNameError` with close matches.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from arbiter.domain.errors import InputError, UnknownNameError
from arbiter.domain.limits import shown
from arbiter.domain.model_arch import Attention, ModelArch

REGISTRY_FILE = "arbiter/workloads/data/models.yaml"

# integer field -> (minimum, required)
_INT_FIELDS: dict[str, tuple[int, bool]] = {
    "n_layers": (1, True),
    "d_model": (1, True),
    "n_heads": (1, True),
    "n_kv_heads": (1, False),
    "head_dim": (1, False),
    "ffn_dim": (1, True),
    "vocab_size": (1, True),
    "n_experts": (0, False),
    "n_active_experts": (0, False),
    "n_shared_experts": (0, False),
    "moe_ffn_dim": (0, False),
    "n_dense_layers": (0, False),
    "q_lora_rank": (0, False),
    "kv_lora_rank": (0, False),
    "rope_head_dim": (0, False),
    "v_head_dim": (0, False),
    "max_context": (0, False),
}
# The largest architecture field a file may give (the largest real models have d_model and
# vocabularies in the hundreds of thousands); larger values overflow the parameter counts.
_MAX_ARCH_INT = 1_000_000
_MAX_CONTEXT = 1_000_000_000
_MAX_PARAMS_B = 1_000_000.0
_BOOL_FIELDS = ("gated_ffn", "tied_embeddings")
_STR_FIELDS = ("name", "source")
_ALL_FIELDS = (*_STR_FIELDS, *_INT_FIELDS, "attention", *_BOOL_FIELDS, "published_params_b")
_REQUIRED = ("name", *(n for n, (_, required) in _INT_FIELDS.items() if required))
_ATTENTIONS = tuple(a.value for a in Attention)


@dataclass(frozen=True, slots=True)
class _Registry:
    models: dict[str, ModelArch]
    aliases: dict[str, str]


def _key(name: str) -> str:
    return re.sub(r"[\s_]+", "-", name.strip().lower())


@functools.cache
def _registry() -> _Registry:
    text = resources.files("arbiter.workloads.data").joinpath("models.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    models: dict[str, ModelArch] = {}
    for name, body in data["models"].items():
        if not isinstance(body, Mapping):
            raise InputError("must be a mapping", file=REGISTRY_FILE, field=f"models.{name}")
        models[_key(name)] = model_from_mapping(
            {"name": name, **body}, REGISTRY_FILE, f"models.{name}"
        )
    aliases: dict[str, str] = {}
    for alias, target in data.get("aliases", {}).items():
        if _key(target) not in models:
            raise InputError(
                f"alias {alias!r} points at unknown model {target!r}",
                file=REGISTRY_FILE,
                field=f"aliases.{alias}",
            )
        aliases[_key(alias)] = _key(target)
    return _Registry(models, aliases)


def model_names() -> tuple[str, ...]:
    """The registry's model names, sorted."""
    return tuple(sorted(m.name for m in _registry().models.values()))


def model_aliases() -> dict[str, str]:
    """Every alias (lower-case) and the registry name it stands for."""
    reg = _registry()
    return {alias: reg.models[target].name for alias, target in reg.aliases.items()}


def resolve_model(name: str, *, file: str | None = None, field: str | None = None) -> ModelArch:
    """The registry architecture called ``name`` (any case, any alias).

    Raises :class:`UnknownNameError` naming ``file`` and ``field``, with close matches.
    """
    reg = _registry()
    key = _key(name)
    for candidate in (key, key.rsplit("/", 1)[-1]):
        hit = reg.models.get(candidate) or reg.models.get(reg.aliases.get(candidate, ""))
        if hit is not None:
            return hit
    raise UnknownNameError("model", name, model_names(), file=file, field=field)


def _sub(field: str, name: str) -> str:
    return f"{field}.{name}" if field else name


def _int(data: Mapping[str, object], name: str, file: str, field: str) -> int:
    minimum, _required = _INT_FIELDS[name]
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(
            f"must be a whole number, got {value!r}", file=file, field=_sub(field, name)
        )
    maximum = _MAX_CONTEXT if name == "max_context" else _MAX_ARCH_INT
    if not minimum <= value <= maximum:
        bound = "> 0" if minimum else ">= 0"
        what = f"must be {bound}" if value < minimum else f"must be at most {maximum:,}"
        raise InputError(
            f"{what}, got {shown(value)}",
            file=file,
            field=_sub(field, name),
            valid=f"a whole number from {minimum} to {maximum:,}",
        )
    return value


def _typed(data: Mapping[str, object], file: str, field: str) -> dict[str, Any]:
    """The fields of ``data`` checked one by one, as :class:`ModelArch` keyword arguments."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        where = _sub(field, name)
        if name in _INT_FIELDS:
            out[name] = _int(data, name, file, field)
        elif name in _BOOL_FIELDS:
            if not isinstance(value, bool):
                raise InputError(f"must be true or false, got {value!r}", file=file, field=where)
            out[name] = value
        elif name in _STR_FIELDS:
            if not (isinstance(value, str) and value.strip()):
                raise InputError(
                    f"must be a non-empty string, got {value!r}", file=file, field=where
                )
            out[name] = value.strip()
        elif name == "attention":
            key = value.strip().lower() if isinstance(value, str) else value
            if key not in _ATTENTIONS:
                raise InputError(
                    f"unknown attention {value!r}",
                    file=file,
                    field=where,
                    valid=", ".join(_ATTENTIONS),
                )
            out[name] = Attention(key)
        elif name == "published_params_b" and value is not None:
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 < value <= _MAX_PARAMS_B
            ):
                raise InputError(
                    f"must be a positive number of billions, got {shown(value)}",
                    file=file,
                    field=where,
                    valid=f"a number above 0 and at most {_MAX_PARAMS_B:,.0f}",
                )
            out[name] = float(value)
    return out


def model_from_mapping(data: object, file: str, field: str) -> ModelArch:
    """A custom architecture from a mapping of :class:`ModelArch` fields.

    ``name``, ``n_layers``, ``d_model``, ``n_heads``, ``ffn_dim`` and ``vocab_size`` are
    required. ``n_kv_heads`` defaults to ``n_heads`` (MHA) and ``head_dim`` to
    ``d_model / n_heads``; ``attention`` is ``mha``, ``gqa`` (the default) or ``mla``. Every
    problem is an :class:`InputError` naming ``file`` and the field path under ``field``.
    """
    if not isinstance(data, Mapping):
        raise InputError(
            f"a custom model must be a mapping of architecture fields, got {shown(data)}",
            file=file,
            field=field or None,
            valid=", ".join(_ALL_FIELDS),
        )
    unknown = [str(k) for k in data if k not in _ALL_FIELDS]
    if unknown:
        raise InputError(
            f"unknown model field {unknown[0]!r}",
            file=file,
            field=_sub(field, unknown[0]),
            valid=", ".join(_ALL_FIELDS),
        )
    missing = [n for n in _REQUIRED if n not in data]
    if missing:
        raise InputError(
            f"a custom model needs {', '.join(missing)}",
            file=file,
            field=_sub(field, missing[0]),
            valid=f"required fields are {', '.join(_REQUIRED)}",
        )
    values = _typed(data, file, field)
    values.setdefault("n_kv_heads", values["n_heads"])
    if "head_dim" not in values:
        if values["d_model"] % values["n_heads"]:
            raise InputError(
                f"d_model {values['d_model']} is not a multiple of n_heads {values['n_heads']};"
                " give head_dim",
                file=file,
                field=_sub(field, "head_dim"),
            )
        values["head_dim"] = values["d_model"] // values["n_heads"]
    if values.get("n_dense_layers", 0) > values["n_layers"]:
        raise InputError(
            f"n_dense_layers {values['n_dense_layers']} exceeds n_layers {values['n_layers']}",
            file=file,
            field=_sub(field, "n_dense_layers"),
        )
    try:
        return ModelArch(**values)
    except ValueError as exc:
        raise InputError(str(exc), file=file, field=field or None) from None
