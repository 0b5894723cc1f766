"""arbiter: where AI workloads should run, and how dependent that makes you."""

__version__ = "0.1.0"
