"""Dependency risk of a fleet plan: concentration, shocks sampled from a scenario file,
what they cost with and without re-planning, and what optionality is worth."""
