"""Optimisation models: arrays in, HiGHS out. Each model's formulation is in its docstring."""
