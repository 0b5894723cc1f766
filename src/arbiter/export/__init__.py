"""Turn a fleet plan into files other tools launch: SkyPilot tasks, dstack runs, JSON."""

from __future__ import annotations

from arbiter.export.launchers import to_dstack, to_json, to_skypilot

__all__ = ["to_dstack", "to_json", "to_skypilot"]
