"""Take the README's screenshot of the web app: the plan view of ``arbiter serve``.

    .venv/bin/python scripts/screenshot_web.py [--out docs/img/web-plan-view.png]

Starts the service with its web app on a free port over a temporary database (the web
tests' server, ``tests/service/web_server.py``; ARBITER_TODAY=2026-12-06), makes a planner
token, plans ``examples/fleet.yaml`` (a plan job through the REST API, as the editor's Plan
button starts it; about 20 s), and opens the plan's page in Debian's chromium (Playwright;
no browser is downloaded) to capture its top: the headline, the spend shares against the
caps, the plan against its baselines. The PNG must stay under 300 KB.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "service"))

from web_server import running_server  # noqa: E402 - the tests' server helper

OUT = ROOT / "docs" / "img" / "web-plan-view.png"
CHROMIUM = "/usr/bin/chromium"
FLEET = ROOT / "examples" / "fleet.yaml"
MAX_BYTES = 300_000
WIDTH, HEIGHT = 1100, 1400


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a dev dependency

    with tempfile.TemporaryDirectory() as folder, running_server(Path(folder)) as server:
        secret = server.token("planner", label="screenshot")
        fleet = FLEET.read_text(encoding="utf-8")
        job = server.job(secret, "plan", {"fleet": fleet, "save": True})
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"]
            )
            context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
            context.add_cookies(
                [{"name": "arbiter_token", "value": secret, "url": server.url, "httpOnly": True}]
            )
            page = context.new_page()
            page.goto(f"{server.url}/plans/{job['result_ref']}")
            page.wait_for_selector("#chart-baselines .main-svg")
            page.wait_for_timeout(500)  # plotly's transitions
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    size = args.out.stat().st_size
    print(f"{args.out}: {size:,} bytes")
    if size > MAX_BYTES:
        print(f"larger than {MAX_BYTES:,} bytes: make the view smaller", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
