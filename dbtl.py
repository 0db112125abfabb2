"""``python dbtl.py ...``: the ``kinsynth-dbtl`` application, run from a checkout (see README)."""

from kinsynth.cli.dbtl import main

if __name__ == "__main__":
    main()
