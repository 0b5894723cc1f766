"""The version of arbiter (one place: the package, the CLI and every provenance read it)."""

__version__ = "0.1.0"
