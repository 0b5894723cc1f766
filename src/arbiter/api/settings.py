"""Settings read from the environment, once, and passed down (the CLI, the API)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from arbiter.domain.errors import InputError

DEFAULT_MAX_AGE_DAYS = 180


@dataclass(frozen=True, slots=True)
class Settings:
    """``db_url``: the catalog store (``ARBITER_DB_URL``; default a SQLite file).
    ``max_age_days``: offers older than this are flagged (``ARBITER_MAX_AGE_DAYS``).
    ``today``: the date ages are measured from (``ARBITER_TODAY``, for reproducible runs).
    """

    db_url: str | None
    max_age_days: int
    today: dt.date
    env: Mapping[str, str]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            db_url=env.get("ARBITER_DB_URL") or None,
            max_age_days=_int_env(env, "ARBITER_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS),
            today=_date_env(env, "ARBITER_TODAY"),
            env=env,
        )


def _int_env(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise InputError(f"{raw!r} is not a number of days", field=name, valid="an integer >= 0")
    return value


def _date_env(env: Mapping[str, str], name: str) -> dt.date:
    raw = env.get(name)
    if not raw:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{raw!r} is not a date", field=name, valid="YYYY-MM-DD") from None
