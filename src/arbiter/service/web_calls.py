"""The REST API, called by the web app inside the same process.

A page that starts a job or reads one asks ``/api/v1`` what a client would, with the
logged-in token (``Authorization: Bearer``): the job is checked, recorded and run by the
API's runner exactly as for any client, the token's role and limits apply, and the page
shows the API's own error message when it refuses. The call goes through the app itself
(``httpx.ASGITransport``), not the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import Request

from arbiter.service.web_auth import secret_of

__all__ = ["Answer", "call"]

API = "/api/v1"


@dataclass(frozen=True, slots=True)
class Answer:
    """The API's answer: its status and its JSON body (None when it sent none)."""

    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def message(self) -> str:
        """What the API said went wrong, in one paragraph."""
        text = _text(self.body)
        return text or f"the API answered {self.status}"

    def field(self, key: str) -> Any:
        """``key`` of a JSON object body (None if it has none)."""
        return self.body.get(key) if isinstance(self.body, Mapping) else None


def _text(body: Any) -> str:
    """The message of an error body: ``{"detail": "..."}``, ``{"error": {"message":
    "..."}}``, a list of validation errors, or plain text."""
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(filter(None, (_text(item) for item in body)))
    if isinstance(body, Mapping):
        for key in ("message", "detail", "error", "msg"):
            if key in body:
                found = _text(body[key])
                if found:
                    return found
    return ""


async def call(
    request: Request, method: str, path: str, body: Mapping[str, Any] | None = None
) -> Answer:
    """``method`` ``/api/v1<path>`` with ``body`` as JSON, as the logged-in token."""
    transport = httpx.ASGITransport(app=request.app)
    headers = {"Authorization": f"Bearer {secret_of(request)}", "Accept": "application/json"}
    async with httpx.AsyncClient(transport=transport, base_url="http://arbiter.web") as client:
        response = await client.request(method, API + path, json=body, headers=headers)
    try:
        parsed = response.json() if response.content else None
    except ValueError:
        parsed = response.text
    return Answer(response.status_code, parsed)
