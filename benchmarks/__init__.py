"""Benchmarks: speed and memory targets are measured here, never asserted in tests.

Each ``bench_<name>.py`` has ``main(argv: list[str] | None = None) -> dict``: it runs, prints a short
report (ratios measured in one run, not absolute times alone) and returns its figures.
"""
