"""kinsynth."""
