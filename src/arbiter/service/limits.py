"""The request size limit: a pure ASGI middleware.

A request whose ``Content-Length`` is over the limit is answered 413 before its body is
read; one sent without a length (chunked) is counted as it streams, and answered 413 as
soon as it passes the limit (the route reading it stops there). The answer is the API's
error body (:class:`~arbiter.service.models.ErrorBody`).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arbiter.service.errors import ApiError, error_body, status_name

__all__ = ["BodyLimit", "TooLargeError"]


class TooLargeError(ApiError):
    """The request's body is over the limit (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"the request's body is over the server's limit of {limit:,} bytes "
            "(`arbiter serve --max-body-mb`)",
        )


class BodyLimit:
    """Answer 413 to a request whose body is over ``max_bytes``."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is None:
            await _refuse(send, 400, "the Content-Length header is not a number of bytes")
            return
        if declared > self.max_bytes:
            await _refuse(send, 413, TooLargeError(self.max_bytes).message)
            return
        counted = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal counted
            message = await receive()
            if message["type"] == "http.request":
                counted += len(message.get("body", b""))
                if counted > self.max_bytes:
                    raise TooLargeError(self.max_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except TooLargeError as exc:  # raised where no route turned it into an answer
            if started:
                raise
            await _refuse(send, 413, exc.message)


def _content_length(scope: Scope) -> int | None:
    """The declared length (0 when none is declared); None when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return 0


async def _refuse(send: Send, status: int, message: str) -> None:
    body = json.dumps(error_body(status_name(status), message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
