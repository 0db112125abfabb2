"""``python generate.py ...``: the ``kinsynth-generate`` application, from a checkout."""

from kinsynth.cli.generate import main

if __name__ == "__main__":
    main()
