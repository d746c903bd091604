"""Benchmarks (reported, not asserted): see benchmarks/README.md."""
