#!/usr/bin/env bash
# Install Debian's chromium for the web app's browser tests (Playwright drives it through
# executable_path; no browser is ever downloaded by a test tool). Idempotent; as root on
# Debian. Without root or apt it says so and the browser tests skip with that message.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "chromium.sh: $(chromium --version 2>/dev/null | head -n 1)" >&2
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium.sh: cannot install chromium here (needs root and apt); browser tests will skip" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
    || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; }
echo "chromium.sh: installed $(chromium --version 2>/dev/null | head -n 1)" >&2
