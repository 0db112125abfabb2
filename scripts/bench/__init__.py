"""Benchmark code for ``scripts/benchmark.py``: kept out of the installed library on purpose.

``training``: training against a bare loop, PPCA, sampling, the simulator, the thesis sweep.
``scale``: how a run's cost grows with its rows (``--scale``).
"""
