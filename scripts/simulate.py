"""``python scripts/simulate.py ...``: the same application as ``kinsynth-simulate``."""

from kinsynth.cli.simulate import main

if __name__ == "__main__":
    main()
