"""``SOURCES`` maps the names the CLI accepts (``arbiter catalog import SOURCE FILE...``) to
the parsers; :mod:`arbiter.catalog.importing` runs them and merges the result.
"""

from __future__ import annotations

from arbiter.catalog.feeds import (
    aws_offer,
    aws_savings_plan,
    azure,
    gcp,
    gpuhunt,
    runpod,
    skypilot,
)
from arbiter.catalog.feeds.context import Parser

SOURCES: dict[str, Parser] = {
    "skypilot": skypilot.parse,
    "azure": azure.parse,
    "aws": aws_offer.parse,
    "aws-savings-plan": aws_savings_plan.parse,
    "gcp": gcp.parse,
    "gpuhunt": gpuhunt.parse,
    "runpod": runpod.parse,
}
