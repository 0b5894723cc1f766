"""What the CLI tests share: ``cli(*args)`` runs ``arbiter`` in-process against a fresh
SQLite store and returns the exit code, stdout and stderr."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from arbiter.cli.app import main


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys) -> Callable[..., tuple[int, str, str]]:
    monkeypatch.setenv("ARBITER_DB_URL", f"sqlite:///{tmp_path / 'arbiter.db'}")
    monkeypatch.setenv("ARBITER_TODAY", "2026-11-29")
    monkeypatch.setenv("COLUMNS", "240")

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
