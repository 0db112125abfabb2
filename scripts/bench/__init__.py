"""Benchmark code for ``scripts/benchmark.py``: kept out of the installed library on purpose.

One module per thing measured: ``training`` (our training against a bare loop, the default model,
PPCA), ``sampling`` (generation speed and memory), ``simulator``, ``sweeps`` (the thesis sweep,
``--sweep``), ``scale`` (how a run's cost grows with its rows, ``--scale``), ``caps`` (how far the
evaluation caps move the figures, ``--caps``) and ``cycles`` (seconds per DBTL cycle,
``--cycles``). ``suite`` runs the default table; ``report`` holds the table and the clocks,
``options`` its sizes, ``configs`` where the configs and data are.
"""
