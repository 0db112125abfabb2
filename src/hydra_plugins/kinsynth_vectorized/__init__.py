"""kinsynth's Hydra launcher plugin: ``hydra/launcher=vectorized`` (see kinsynth.cli.vectorized).

Hydra instantiates launchers only from the ``hydra_plugins`` namespace, so the class lives here
and everything it does lives in kinsynth.
"""
