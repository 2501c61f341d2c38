"""Benchmarks: one command each (`python -m bench.<name>`); figures go in the README."""
