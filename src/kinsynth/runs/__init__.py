"""A run directory and what makes a run itself: its layout and finished marker (contract),
the one-writer lock, resume checks, the random states in checkpoints, and its readable names."""
