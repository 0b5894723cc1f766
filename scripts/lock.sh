#!/usr/bin/env bash
# Rebuild requirements.lock from pyproject.toml: every extra, every platform (markers), with
# hashes. `make demo` and `make test` install from the lock; `make test-latest` ignores it.
# Needs uv (pip install uv); it reads the package index, nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
uv pip compile pyproject.toml requirements/tools.in \
    --all-extras --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "bash scripts/lock.sh" \
    -o requirements.lock "$@"
