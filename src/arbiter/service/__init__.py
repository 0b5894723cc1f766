"""The web service (FastAPI): the API and pages over the library, background jobs, tokens."""
