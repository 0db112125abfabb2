"""Hydra configs of kinsynth, shipped in the package as ``kinsynth.conf`` (pkg:// search path)."""
