"""Human-readable reports of arbiter results."""

from __future__ import annotations

from arbiter.report.plan_html import plan_html

__all__ = ["plan_html"]
