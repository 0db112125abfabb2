"""Design-build-test-learn campaigns: a strategy proposes each batch, the simulator tests it.

Hydra-free, like ``kinsynth.train.run``: ``dbtl.py`` only hands over its config. See docs/dbtl.md.
"""

from kinsynth.campaign.loop import run_campaign
from kinsynth.campaign.propose import propose_from_table

__all__ = ["propose_from_table", "run_campaign"]
