"""Benchmark suite: execution kernels against other engines and hand-written Python,
compile/instantiate figures per compilation mode, and conformance wall time.

Run ``python -m benchmarks --help``.
"""
