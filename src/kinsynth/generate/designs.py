"""Generating designs from a trained run, streamed to a file chunk by chunk.

Memory stays flat whatever ``n`` is: the model yields chunks (:meth:`iter_sample`), each is
checked and appended to a temporary file that is renamed into place at the end. The target column
always holds the **request**; when the model had to condition on a different (clipped) value, that
value is written beside it, and a warning names the training range.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from kinsynth.conf.schemas import GenerateConfig, keys
from kinsynth.core.counts import whole_number
from kinsynth.core.errors import KinsynthError
from kinsynth.core.threads import use_threads
from kinsynth.core.writing import ChunkWriter, overwrite_flag, write_csv
from kinsynth.generate.check import CheckSummary

if TYPE_CHECKING:
    from kinsynth.evaluate.oracles import Oracle
    from kinsynth.models.base import GenerativeModule, TargetRequest

log = logging.getLogger("kinsynth")

__all__ = ["GenerationResult", "generate_designs", "generate_from_settings", "write_csv"]

#: generate.yaml's keys that are generate_designs's arguments (all but the task name)
SETTINGS = tuple(key for key in keys(GenerateConfig) if key != "task_name")


def _settle(written: Future[None] | None) -> None:
    """Wait until the chunk being written is on disk, whatever interrupts the wait: the writer
    removes (or renames) its temporary file next, and a chunk appended after that would leave
    a hidden file beside ``out=``. A signal that arrives meanwhile is raised once it is done."""
    interrupted: BaseException | None = None
    while written is not None and not written.done():
        try:
            wait([written])
        except BaseException as error:  # noqa: BLE001 - re-raised below, after the write ends
            interrupted = error
    if interrupted is not None:
        raise interrupted


def register_resolvers() -> None:
    """``${kinsynth_unless_out:${out},a,b}``: ``a`` without ``out=``, else ``b`` (generate.yaml)."""
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("kinsynth_unless_out"):
        OmegaConf.register_new_resolver(
            "kinsynth_unless_out", lambda out, own, other: own if out is None else other
        )
        OmegaConf.register_new_resolver(
            "kinsynth_log_file", lambda out, own: own if out is None else os.devnull
        )


def generate_from_settings(settings: dict[str, Any], default_out: Path) -> GenerationResult:
    """``generate.py``'s config keys (see conf/generate.yaml) to :func:`generate_designs`."""
    values: dict[str, Any] = {key: settings.get(key) for key in SETTINGS}
    values["out"] = values["out"] or default_out
    values["seed"] = whole_number("seed", values["seed"] or 0, minimum=0)
    return generate_designs(**values)


@dataclass
class GenerationResult:
    """What a generate call wrote, and what the console should say about it."""

    path: Path
    rows: int
    columns: list[str]
    #: what the console says at the end (the check's counts); warnings are logged when found
    messages: list[str] = field(default_factory=list)
    #: the warnings about the request (outside the training range), logged once as generation starts
    warnings: list[str] = field(default_factory=list)


def check_out(out: str | Path, run: str | Path) -> Path:
    """Refuse an output path inside a run's ``checkpoints/`` (a design file is no checkpoint)."""
    path = Path(out).expanduser()
    if "checkpoints" in path.resolve().parent.parts or path.suffix == ".ckpt":
        raise KinsynthError(
            f"out={out}: refusing to write inside a run's checkpoints/ (or a .ckpt file); "
            "choose a path outside the run's checkpoints"
        )
    return path


def _target_notes(model: GenerativeModule, request: TargetRequest) -> tuple[list[str], bool]:
    """Warnings for a request outside the training targets; whether clipped values are written."""
    from kinsynth.models.base import parse_target

    parsed = parse_target(request)
    if parsed is None or model.target_bank.numel() == 0:
        return [], False
    low, high = float(model.target_bank.min()), float(model.target_bank.max())
    values = np.atleast_1d(np.asarray(parsed, dtype=np.float64))
    if values.min() >= low and values.max() <= high:
        return [], False
    used = _conditioned_on(model, values)
    clipped = not np.allclose(used, values)
    how = (
        f"the model conditions on the clipped value(s) {_span(used)} (column "
        f"{model.target}_used); column {model.target} keeps the request"
        if clipped
        else "the model extrapolates beyond what it was trained on"
    )
    note = (
        f"target={request}: outside the training range {low:.4g} to {high:.4g} of "
        f"{model.target}; {how}"
    )
    return [note], clipped


def _span(values: np.ndarray) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    return f"{lo:.4g}" if lo == hi else f"{lo:.4g} to {hi:.4g}"


def _conditioned_on(model: GenerativeModule, targets: np.ndarray) -> np.ndarray:
    """The target the model actually sees: the request after the data transform's clipping."""
    column = [model.target]
    scaled = model.transform.transform(targets[:, None], columns=column)
    return model.transform.inverse_transform(scaled, columns=column)[:, 0]


def generate_designs(
    run: str | Path,
    n: Any,
    target: Any = None,
    seed: int = 0,
    out: str | Path = "designs.csv",
    *,
    overwrite: bool = False,
    chunk_size: Any = None,
    threads: Any = None,
    check: bool = False,
) -> GenerationResult:
    """Sample ``n`` designs from the run's model and stream them to ``out`` (original units).

    ``check=True`` adds the oracle's flux per design (``<target>_oracle``, and ``valid`` when the
    oracle is the simulator) and counts the designs within ±5 % and ±10 % of the request.
    """
    if run in (None, "", "???"):
        raise KinsynthError("run=: missing; expected run=<run directory or checkpoint file>")
    rows = whole_number("n", n)
    chunk = whole_number("chunk_size", chunk_size) if chunk_size is not None else None
    path = check_out(out, run)
    writer = ChunkWriter(path, overwrite=overwrite_flag(overwrite))  # refuses before any work
    # only now: a mistake in the arguments above is reported without 7 s of torch and Lightning
    from kinsynth.models import load

    use_threads(threads)
    model = load(run)
    notes, write_used = _target_notes(model, target) if model.conditional else ([], False)
    for note in notes:  # said once, before the wait, not repeated in the closing lines
        log.warning("%s", note)
    messages: list[str] = []
    oracle: Oracle | None = None
    summary: CheckSummary | None = None
    if check:
        if not model.conditional:
            raise KinsynthError(
                "check=true compares designs with their requested flux: it needs a conditional "
                "model (model=cvae, model=bcvae or model=cppca)"
            )
        from kinsynth.generate.check import run_oracle

        oracle, simulator = run_oracle(run)
        assert model.target is not None, "a conditional model has a target"
        summary = CheckSummary(model.target)
    columns: list[str] = []
    # one chunk is written while the next is sampled: formatting text and the decoder's
    # arithmetic both release the GIL, so the two cores share them; chunks stay in order
    with writer, ThreadPoolExecutor(max_workers=1) as behind:
        written: Future[None] | None = None
        try:
            for designs in model.iter_sample(rows, target=target, seed=int(seed),
                                             chunk_size=chunk):
                if model.conditional and write_used:
                    designs[f"{model.target}_used"] = _conditioned_on(
                        model, designs[model.target].to_numpy()
                    )
                if oracle is not None and summary is not None:
                    _add_oracle(designs, model, oracle, simulator, summary)
                if written is not None:
                    written.result()  # the previous chunk's error, if any, stops the loop here
                written = behind.submit(writer.write, designs)
                columns = list(designs.columns)
        finally:
            _settle(written)
        if written is not None:
            written.result()
    if summary is not None:
        messages += summary.lines()
    return GenerationResult(path=path, rows=writer.rows, columns=columns, messages=messages,
                            warnings=notes)


def _add_oracle(
    designs: pd.DataFrame, model: GenerativeModule, oracle: Oracle, simulator: bool,
    summary: CheckSummary,
) -> None:
    """Oracle flux (and validity, for the simulator) beside each design, counted in ``summary``."""
    if simulator:
        from kinsynth.generate.check import simulate_designs

        result = simulate_designs(designs, model.features)
        flux = result["flux"].to_numpy(dtype=np.float64)
        designs[f"{model.target}_oracle"] = flux
        designs["valid"] = result["valid"].to_numpy()
    else:
        flux = np.asarray(oracle(designs[model.features]), dtype=np.float64)
        designs[f"{model.target}_oracle"] = flux
    summary.add(designs[model.target].to_numpy(dtype=np.float64), flux)
