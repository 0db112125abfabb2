"""``kinsynth-train`` (and ``python train.py``): train a model, see README."""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from kinsynth.cli import resolvers  # noqa: F401  (registers the config resolvers)
from kinsynth.cli.guard import exit_on_bad_command_line, guarded, in_multirun, run_app
from kinsynth.conf.schemas import register_configs
from kinsynth.runs.lock import release_command_locks

register_configs()  # the YAMLs name their schemas (conf/schemas.py) in their defaults lists
#: set by the app when a single run (not a job of a multirun) has finished without an error
_FINISHED_SINGLE_RUN = False


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
@guarded(sigterm=False)  # Lightning stops a run at the end of an epoch, with a checkpoint
def app(cfg: DictConfig) -> float | None:
    from kinsynth.data.io import check_file

    try:
        check_file(cfg.data.get("path"))  # a wrong data.path in a second, before torch loads
        from kinsynth.train.run import objective, run_training

        sweeping = in_multirun()
        metrics = run_training(cfg, HydraConfig.get().runtime.output_dir, sweeping=sweeping)
        global _FINISHED_SINGLE_RUN
        _FINISHED_SINGLE_RUN = not sweeping
    finally:
        release_command_locks()  # the lock taken before Hydra wrote the run's record
    if not metrics or not cfg.get("optimized_metric"):
        return None
    return objective(metrics, cfg.optimized_metric, sweeping=sweeping)


def main() -> None:
    exit_on_bad_command_line(sys.argv[1:])
    run_app(app)
    # a sweep's launcher may hold worker processes, and a caller in its own process (a test, a
    # notebook) goes on after main(): both end as usual
    if _FINISHED_SINGLE_RUN and _is_entry_point():
        end_finished_process()


def _is_entry_point() -> bool:
    """Whether this process was started to run this command (``python train.py``, the
    ``kinsynth-train`` script): its ``__main__`` module is the one that called :func:`main`."""
    return getattr(sys.modules.get("__main__"), "main", None) is main


def end_finished_process() -> None:
    """End a finished single run at once, skipping the interpreter's teardown of its modules.

    Everything the run writes is closed by now; what is left is Python freeing the half-million
    objects of torch, Lightning, sklearn and matplotlib one by one: about 1.4 CPU-seconds on the
    development machine, 7 % of a 200-epoch thesis run (docs/performance.md). The interpreter's
    own shutdown steps that matter still run, in its order: other non-daemon threads are
    joined, the ``atexit`` functions run (logging's flush and close among them), the standard
    streams are flushed.
    """
    import atexit
    import os
    import threading

    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
