"""``python train.py ...``: the ``kinsynth-train`` application, run from a checkout (see README)."""

from kinsynth.cli.train import main

if __name__ == "__main__":
    main()
