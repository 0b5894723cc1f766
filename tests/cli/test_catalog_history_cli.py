"""``arbiter catalog history`` and ``catalog diff``: every dated price of a chip, across the
embedded catalog's older prices and the stored versions a catalog descends from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"


def _history(cli, *args: str) -> dict:
    code, out, err = cli("catalog", "history", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_history_of_h100_shows_dated_moves_for_several_providers(cli):
    doc = _history(cli, "H100-SXM")
    assert doc["accelerator"] == "H100-SXM"
    moved = {m["provider"] for m in doc["moves"]}
    assert {"runpod", "nebius", "aws", "azure", "gcp"} <= moved
    runpod = next(
        m for m in doc["moves"] if m["provider"] == "runpod" and m["price_regime"] == "on_demand"
    )
    assert (runpod["first_as_of"], runpod["first_usd_per_accelerator_hour"]) == ("2025-06-21", 2.99)
    assert (runpod["last_as_of"], runpod["last_usd_per_accelerator_hour"]) == ("2026-09-25", 3.49)
    assert runpod["change_share"] == pytest.approx(3.49 / 2.99 - 1, abs=1e-6)
    # largest move first
    sizes = [abs(m["change_share"]) for m in doc["moves"]]
    assert sizes == sorted(sizes, reverse=True)
    # every observation of a moved offer is listed, with its date and whether it is current
    seen = [o for o in doc["observations"] if o["offer_id"] == runpod["offer_id"]]
    assert [(o["as_of"], o["current"]) for o in seen] == [
        ("2025-06-21", False),
        ("2026-09-25", True),
    ]
    assert seen[1]["age_days"] == 65  # 2026-09-25 to ARBITER_TODAY 2026-11-29


def test_history_filters_by_provider_and_regime(cli):
    doc = _history(cli, "h100", "--provider", "nebius", "--regime", "on_demand")
    assert {o["provider"] for o in doc["observations"]} == {"nebius"}
    assert {o["price_regime"] for o in doc["observations"]} == {"on_demand"}
    # the list price announced for 2026-10-01 replaced 2026-09-25's, and the 2025 price in
    # the snapshot of its regions is history too
    prices = {
        (o["region"], o["as_of"], o["usd_per_accelerator_hour"], o["current"])
        for o in doc["observations"]
    }
    assert ("global", "2026-10-01", 4.5, True) in prices
    assert ("global", "2026-09-25", 3.85, False) in prices
    assert ("eu-north1", "2025-06/2026-09", 2.95, False) in prices
    [row] = doc["by_provider"]
    assert (row["provider"], row["lowest_usd_per_accelerator_hour"]) == ("nebius", 4.5)


def test_an_import_adds_observations_to_the_history(cli):
    before = _history(cli, "H100-SXM", "--provider", "runpod")
    code, _, err = cli(
        "catalog", "import", "runpod", str(FEEDS / "runpod-graphql-gputypes.sample.json")
    )
    assert code == 0, err
    after = _history(cli, "H100-SXM", "--provider", "runpod")
    assert after["versions_read"] == before["versions_read"] + 1 == 2
    # the feed reprices the same offer (one name per product): a third observation, today's
    secure = [
        (o["as_of"], o["usd_per_accelerator_hour"], o["current"])
        for o in after["observations"]
        if o["region"] == "secure-cloud" and o["price_regime"] == "on_demand"
    ]
    assert secure == [
        ("2025-06-21", 2.99, False),
        ("2026-09-25", 3.49, False),
        ("2026-11-29", 2.99, True),
    ]
    assert len(after["observations"]) > len(before["observations"])


def test_history_table_and_html(cli, tmp_path):
    page = tmp_path / "h100.html"
    code, out, err = cli("catalog", "history", "H100", "--limit", "3", "--html", str(page))
    assert code == 0, err
    assert "offers whose price moved" in out
    assert "more (--limit, --json)" in out
    html = page.read_text(encoding="utf-8")
    assert "Plotly.newPlot" in html and "chart-history" in html
    assert "<script src=" not in html  # plotly.js is inline: the page works offline
    assert "NVIDIA H100 80GB HBM3" in html


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("catalog", "history", "H1000"), "ACCELERATOR"),
        (("catalog", "history", "H100", "--provider", "nebulous"), "--provider"),
        (("catalog", "history", "H100", "--regime", "weekly"), "--regime"),
    ],
)
def test_history_bad_names_exit_2_naming_the_field(cli, args, field):
    code, _, err = cli(*args)
    assert code == 2
    assert field in err and "Traceback" not in err


def test_diff_lists_the_largest_moves_first(cli):
    code, _, err = cli(
        "catalog", "import", "runpod", str(FEEDS / "runpod-graphql-gputypes.sample.json")
    )
    assert code == 0, err
    code, out, _ = cli("catalog", "versions", "--json")
    new = next(v["version"] for v in json.loads(out) if v["current"])
    code, out, _ = cli("catalog", "diff", "default", new[:12], "--json")
    changed = json.loads(out)["changed"]
    assert len(changed) >= 2
    sizes = [abs(c["change_share"]) for c in changed]
    assert sizes == sorted(sizes, reverse=True)
    code, out, _ = cli("catalog", "diff", "default", new[:12], "--limit", "1")
    assert code == 0
    top = changed[0]
    assert f"largest moves: {top['provider']} {top['instance_type']}" in out
    assert f"... and {len(changed) - 1} more" in out


def test_the_readme_figures_of_the_h100_history(cli):
    readme = " ".join(
        (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8").split()
    )
    doc = _history(cli, "H100-SXM", "--regime", "on_demand")
    moves = {m["provider"]: m for m in doc["moves"]}
    runpod, nebius = moves["runpod"], moves["nebius"]
    for m in (runpod, nebius):
        assert m["region"] in ("secure-cloud", "global")
    said = (
        f"RunPod's secure-cloud H100 (${runpod['first_usd_per_accelerator_hour']:.2f} on "
        f"{runpod['first_as_of']}, ${runpod['last_usd_per_accelerator_hour']:.2f} on "
        f"{runpod['last_as_of']}) and Nebius's list price "
        f"(${nebius['first_usd_per_accelerator_hour']:.2f} on {nebius['first_as_of']}, "
        f"${nebius['last_usd_per_accelerator_hour']:.2f} from {nebius['last_as_of']})"
    )
    assert said in readme
    everything = _history(cli, "H100-SXM")
    assert len({m["provider"] for m in everything["moves"]}) >= 5  # "at five providers or more"
