"""Data shipped with arbiter.workloads: the model registry (models.yaml)."""
