"""Designs from a trained run, streamed to a file, optionally checked with the run's oracle."""
