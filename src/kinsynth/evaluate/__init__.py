"""Evaluation: metric definitions (metrics/), the evaluation callback, oracles, figures, trust
warnings and the sweep report.

Nothing is imported here, so ``import kinsynth.evaluate.metrics`` stays free of Lightning and torch.
"""
