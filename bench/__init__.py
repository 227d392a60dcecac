"""Benchmarks: each prints a figure beside a baseline measured in the same run, and the ratio."""
