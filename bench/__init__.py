"""Benchmarks (not tests): run them as ``python -m bench.<name>``; see bench/README.md."""
