"""One training run from a composed config: the run itself, its checks, console and logger."""
