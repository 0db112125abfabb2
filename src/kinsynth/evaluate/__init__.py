"""Evaluation: metric definitions (metrics.py), the evaluation callback, oracles, figures."""

from kinsynth.evaluate.callback import EvaluationCallback

__all__ = ["EvaluationCallback"]
