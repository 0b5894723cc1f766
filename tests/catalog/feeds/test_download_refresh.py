"""The downloads only the refresh uses: gpuhunt's per-provider catalogs and the AWS Spot
Advisor data, over httpx.MockTransport."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import httpx
import pytest

from arbiter.catalog.embedded import known_accelerators
from arbiter.catalog.feeds import download, gpuhunt
from arbiter.catalog.feeds.context import FeedContext
from arbiter.domain.errors import FeedError
from recorded_feeds import FEEDS

CSV = (FEEDS / "gpuhunt-catalog-v2.sample.csv").read_bytes()
BASE = "/v3/aws"


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _client(files: dict[str, bytes], seen: list[httpx.Request] | None = None) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        body = files.get(request.url.path)
        return httpx.Response(200, content=body) if body is not None else httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(handle))


def test_gpuhunt_version_then_catalog():
    seen: list[httpx.Request] = []
    client = _client(
        {
            f"{BASE}/version": b"20261207-12\n",
            f"{BASE}/20261207-12/catalog.zip": _zip({"aws.csv": CSV}),
        },
        seen,
    )
    version = download.gpuhunt_version(client, "aws")
    assert version == "20261207-12"
    body = download.fetch_gpuhunt(client, "aws", version)
    assert body == CSV
    assert [str(r.url) for r in seen] == [
        "https://dstack-gpu-pricing.s3.eu-west-1.amazonaws.com/v3/aws/version",
        "https://dstack-gpu-pricing.s3.eu-west-1.amazonaws.com/v3/aws/20261207-12/catalog.zip",
    ]
    ctx = FeedContext("catalog.zip#aws.csv", known_accelerators(), dt.date(2026, 12, 7), "aws")
    result = gpuhunt.parse(body, ctx)
    assert {o.instance_type for o in result.offers} == {"p5.48xlarge"}


def _error(call) -> FeedError:
    with pytest.raises(FeedError) as info:
        call()
    assert "\n" not in str(info.value)
    return info.value


def test_gpuhunt_answers_that_are_not_a_catalog():
    url = f"{BASE}/1/catalog.zip"
    assert "not a readable zip" in str(
        _error(lambda: download.fetch_gpuhunt(_client({url: b"<html>"}), "aws", "1"))
    )
    wrong = _client({url: _zip({"gcp.csv": CSV})})
    error = _error(lambda: download.fetch_gpuhunt(wrong, "aws", "1"))
    assert "has no aws.csv" in str(error) and "gcp.csv" in str(error)
    not_csv = _client({url: _zip({"aws.csv": b"a,b\n1,2\n"})})
    assert "not a gpuhunt catalog" in str(
        _error(lambda: download.fetch_gpuhunt(not_csv, "aws", "1"))
    )
    assert "HTTP 404" in str(_error(lambda: download.fetch_gpuhunt(_client({}), "aws", "1")))
    html = _client({f"{BASE}/version": b"<html>no such key</html>"})
    assert "not a catalog version" in str(_error(lambda: download.gpuhunt_version(html, "aws")))
    assert "not a valid gpuhunt provider" in str(
        _error(lambda: download.gpuhunt_version(html, "../aws"))
    )
    assert "not a valid gpuhunt catalog version" in str(
        _error(lambda: download.fetch_gpuhunt(html, "aws", "../../x"))
    )


def test_spot_advisor_data():
    sample = (FEEDS / "aws-spot-advisor-data.sample.json").read_bytes()
    path = "/spot-advisor-data.json"
    assert download.fetch_aws_spot_advisor(_client({path: sample})) == sample
    error = _error(lambda: download.fetch_aws_spot_advisor(_client({path: b"<html>"})))
    assert "not the Spot Advisor data" in str(error)
    assert "spot-bid-advisor.s3.amazonaws.com" in str(error)


def test_aws_region_shapes():
    assert download.is_aws_region("us-east-1") and download.is_aws_region("ap-northeast-3")
    assert not download.is_aws_region("us-east") and not download.is_aws_region("../x-1")
