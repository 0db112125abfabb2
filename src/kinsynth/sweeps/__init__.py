"""Sweeps of many runs: reading their job folders, the planned jobs, the end-of-sweep table, and
worker processes that end with the sweep."""
