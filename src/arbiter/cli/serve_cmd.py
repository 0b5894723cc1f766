"""``arbiter serve``: the team's arbiter, a web service over the store of
``ARBITER_DB_URL`` (the REST API under ``/api/v1``, run by uvicorn).

FastAPI and uvicorn are the ``service`` extra (``pip install 'arbiter[service]'``), loaded
only by this command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from arbiter.api.cataloging import catalog_versions
from arbiter.cli import shared
from arbiter.cli.shared import EngineOpt
from arbiter.domain.errors import ArbiterError, InputError

MB = 1_000_000


def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host", help="Address to listen on (0.0.0.0: every interface; put a proxy in front)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port.")] = 8000,
    engine: EngineOpt = "local",
    max_body_mb: Annotated[
        float,
        typer.Option("--max-body-mb", min=0.001, help="Largest request body, in MB (10^6 bytes)."),
    ] = 2.0,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="An origin whose pages may call the API from a browser (repeatable; "
            "default: none, CORS off).",
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="uvicorn's: critical, error, warning, info, debug.")
    ] = "info",
) -> None:
    """Serve the REST API (and the web pages) on HOST:PORT until interrupted."""
    try:
        import uvicorn  # noqa: PLC0415 - the service extra, loaded by this command only

        from arbiter.service.app import create_app  # noqa: PLC0415 - needs FastAPI
    except ImportError as exc:
        raise ArbiterError(
            f"arbiter serve needs FastAPI and uvicorn ({exc}): pip install 'arbiter[service]'"
        ) from None
    settings = shared.settings()
    catalog_versions(config=settings)  # the store answers (else one paragraph, exit 5)
    app = create_app(
        settings,
        engine=engine,
        max_body_bytes=int(max_body_mb * MB),
        cors_origins=tuple(cors_origin or ()),
    )
    # uvicorn's access log names the client, method, path and status: never a header, so
    # never a token (the API takes tokens in the Authorization header or a cookie only).
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
    except SystemExit as exc:  # uvicorn's exit when it cannot listen there (or start)
        if exc.code in (None, 0):
            return
        raise InputError(
            f"the server could not start on {host}:{port}; uvicorn's lines above say why "
            "(an address in use, or one this machine does not have)",
            field="--host, --port",
        ) from None
