"""The relay benchmark: python -m bench.relay (see docs/performance.md)."""
