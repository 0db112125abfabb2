"""The DBTL benchmark on a real library: ``scripts/dbtl_benchmark.py --landscape g8h_cpr``.

The G8H x CPR library (Petersen et al., PLoS Comput Biol 2024; shipped in
``kinsynth/campaign/landscapes/g8h_cpr/`` with its licence) is replayed two ways:

1. **Replay** over the 234 measured genotypes: each registered strategy, and the *anchor* (what a
   lab writes in 20 lines: one-hot gradient boosting, the top k of the unbuilt measured designs),
   runs ``dbtl.py space=g8h_cpr`` campaigns at two budgets (8 random designs then 4 cycles of 8,
   40 builds; 16 then 4 of 16, 80), one isolate drawn per build. A campaign scores
   ``top10_found``: how many of the 10 genotypes with the best mean it built.
2. **The authors' round 2**: each strategy fits on the 159 genotypes of round 1 (167 isolates,
   replicates averaged) and proposes 96 of the 1,280 designs; the proposals are scored against
   the round-2 sub-library the authors built and against their AutoML ranking.

Results go below ``<out>/g8h_cpr/``: one sweep folder per budget and strategy
(``replay/<budget>/<strategy>/``, with ``seconds.json``, its wall-clock), ``round2/<strategy>.csv``
(the proposals, ranked, with each design's prediction where the strategy gives one); then
``g8h_cpr.md`` (the tables) and ``g8h_cpr_top10.png`` (the curves). A folder or file this run would
create that exists already is refused: a strategy is added to an earlier run with
``--strategies <name>``, and ``--report-only`` rewrites the tables from what is there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

NAME = "g8h_cpr"
#: (initial designs, cycles, designs per cycle): the issue's two budgets, 40 and 80 builds
BUDGETS = {"8+4x8": (8, 4, 8), "16+4x16": (16, 4, 16)}
SEEDS = tuple(range(20))
#: the 20-line lab loop, run by the benchmark as one more strategy (never registered outside it)
ANCHOR = "anchor"
#: the round-2 replay: the plate the authors filled, and the round that trains
ROUND2_DESIGNS = 96
TRAIN_ROUND = 1
#: the authors' abbreviated part names (their AutoML table) -> the table's, per slot
ABBREVIATED = {"G8H": ("", "G8H"), "pG8H": ("p", ""), "pCPR": ("p", ""), "CPR": ("", "CPR")}


def builds(budget: str) -> int:
    initial, cycles, per_cycle = BUDGETS[budget]
    return initial + cycles * per_cycle


def budget_overrides(budget: str) -> list[str]:
    initial, cycles, per_cycle = BUDGETS[budget]
    return [f"initial_designs={initial}", f"cycles={cycles}", f"designs_per_cycle={per_cycle}"]


def sweep_folder(out: Path, budget: str, strategy: str) -> Path:
    return out / NAME / "replay" / budget / strategy


def sweep_command(budget: str, strategy: str, seeds: Sequence[int], folder: Path,
                  n_jobs: int) -> list[str]:
    """One registered strategy's ``dbtl.py -m`` campaigns at one budget, every seed."""
    return [sys.executable, "dbtl.py", "-m", f"strategy={strategy}",
            f"seed={','.join(map(str, seeds))}", f"space={NAME}", *budget_overrides(budget),
            "hydra/launcher=local_parallel", f"hydra.launcher.n_jobs={n_jobs}",
            f"hydra.sweep.dir={folder}"]


# ------------------------------------------------------------------------------------ anchor

def anchor_class() -> type:
    """The anchor as a :class:`~kinsynth.campaign.strategies.Strategy`, so the campaign loop runs
    it with the same initial library, isolate draws and figures as every registered strategy:
    only the choice below is the lab's.

    It differs from ``strategy=recommender`` (the same regressor on the same one-hot features,
    so the same predictions) in one thing: the recommender scores a random pool
    (``pool_size`` uniform draws of the library, in draw order), so designs with equal
    predictions come out in random order; the anchor scores the list of unbuilt designs in the
    table's order and keeps the first of equal predictions, as ``sort_values`` on a lab's table
    does. Gradient boosting on a few one-hot rows predicts the same value for many designs.
    """
    from kinsynth.campaign.space import drop_built
    from kinsynth.campaign.strategies import Strategy

    class OneHotBoostingAnchor(Strategy):
        """One-hot part names, gradient boosting (sklearn defaults, seeded), the top n unbuilt
        designs of the list by prediction."""

        name = ANCHOR
        colour = "black"

        def _onehot(self, frame: pd.DataFrame) -> np.ndarray:
            levels = {c: pd.Categorical(frame[c].astype(str), categories=self.space.slots[c])
                      for c in self.space.columns}
            return pd.get_dummies(pd.DataFrame(levels)).to_numpy(float)

        def _fit(self, built: pd.DataFrame, measured: pd.DataFrame,
                 rng: np.random.Generator) -> None:
            from sklearn.ensemble import GradientBoostingRegressor

            self.model = GradientBoostingRegressor(random_state=self.seed)
            self.model.fit(self._onehot(measured), measured[self.target].to_numpy(float))

        def predict(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
            return self.model.predict(self._onehot(designs)), np.full(len(designs), np.nan)

        def _choose(self, built: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
            unbuilt = drop_built(self.space.enumerate(), built, self.space.columns)
            order = np.argsort(-self.model.predict(self._onehot(unbuilt)), kind="stable")
            return unbuilt.iloc[order[:n]]

    return OneHotBoostingAnchor


class _Registered:
    """The anchor registered while the benchmark runs it, and forgotten after: the strategy
    list every other command reads never holds it."""

    def __enter__(self) -> type:
        from kinsynth.campaign.strategies import register_strategy

        self.cls = register_strategy(ANCHOR)(anchor_class())
        return self.cls

    def __exit__(self, *exc: object) -> None:
        from kinsynth.campaign.strategies.registry import unregister_strategy

        unregister_strategy(ANCHOR)


def compose_dbtl(*overrides: str) -> Any:
    """conf/dbtl.yaml with ``overrides``, as ``dbtl.py`` composes it, without Hydra's run node
    (a measured landscape never reads the simulated pool's cache)."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from bench.configs import CONF_DIR
    from kinsynth.conf.schemas import register_configs

    register_configs()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("dbtl", overrides=list(overrides))
    plain = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(plain, dict)
    plain["pool"]["cache_dir"] = "unused: a measured landscape has no simulated pool"
    plain.pop("hydra", None)
    return OmegaConf.create(plain)


def run_anchor(budget: str, seeds: Sequence[int], folder: Path,
               say: Callable[[str], None] = print) -> None:
    """The anchor's campaigns, in this process: ``<folder>/<seed>/`` as a sweep lays them out."""
    from omegaconf import OmegaConf

    from kinsynth.campaign.loop import run_campaign

    with _Registered():
        for seed in seeds:
            cfg = compose_dbtl(f"space={NAME}", f"seed={seed}", *budget_overrides(budget))
            cfg.strategy = OmegaConf.create({"name": ANCHOR})
            run_campaign(cfg, folder / str(seed))
            say(f"  anchor {budget} seed {seed} done")


# ------------------------------------------------------------------------------- round 2

def measured_table() -> tuple[pd.DataFrame, Any]:
    """The shipped table (every column, ``dbtl_round`` among them) and its landscape entry."""
    from kinsynth.campaign.landscapes import SHIPPED

    shipped = SHIPPED[NAME]
    return pd.read_csv(shipped.path), shipped


def full_space(table: pd.DataFrame, columns: Sequence[str]) -> Any:
    """Every combination of the table's parts: 8 x 4 x 4 x 10 = 1,280 designs."""
    from kinsynth.campaign.parts import PartSpace

    return PartSpace(tuple(columns), {c: tuple(sorted(table[c].astype(str).unique()))
                                      for c in columns})


def round_designs(table: pd.DataFrame, columns: Sequence[str], target: str,
                  rounds: Sequence[int]) -> pd.DataFrame:
    """One row per design measured in ``rounds``: the mean response of its isolates (the
    strategies' contract: replicates averaged), valid."""
    rows = table[table["dbtl_round"].isin(list(rounds))]
    means = rows.groupby(list(columns), sort=False)[target].mean().reset_index()
    return means.assign(valid=True)


def sub_library(table: pd.DataFrame, columns: Sequence[str]) -> set[tuple[str, ...]]:
    """The authors' round-2 library: the product of the parts each slot kept (level pruning
    per slot, their notebook 08_2), read from the parts round 2 built."""
    import itertools

    second = table[table["dbtl_round"] == 2]
    kept = [sorted(second[c].astype(str).unique()) for c in columns]
    return set(itertools.product(*kept))


def automl_predictions(columns: Sequence[str], path: Path | None = None) -> pd.DataFrame:
    """The authors' round-1 AutoML predictions with the table's part names."""
    from kinsynth.campaign.landscapes import HERE

    frame = pd.read_csv(path or HERE / NAME / "round1_automl_predictions.csv")
    for column in columns:
        prefix, suffix = ABBREVIATED[column]
        frame[column] = prefix + frame[column].astype(str) + suffix
    return frame.rename(columns={"Predicted_strict_production": "automl"})


def propose_round2(strategy_name: str, seeds: Sequence[int],
                   say: Callable[[str], None] = print) -> pd.DataFrame:
    """Each seed's 96 designs from round 1, ranked (1 = the strategy's first choice), with the
    strategy's prediction of every unbuilt design (NaN where it gives none) in ``prediction``.

    The rows are all 1,121 unbuilt designs; ``rank`` is empty for those not proposed."""
    from kinsynth.campaign.space import design_keys, drop_built
    from kinsynth.campaign.strategies import strategy_from_config

    table, shipped = measured_table()
    columns, target = list(shipped.columns), shipped.target
    space = full_space(table, columns)
    built = round_designs(table, columns, target, [TRAIN_ROUND])
    unbuilt = drop_built(space.enumerate(), built, columns).reset_index(drop=True)
    keys = design_keys(unbuilt, columns)
    frames = []
    for seed in seeds:
        if strategy_name == ANCHOR:
            strategy = anchor_class()(space, target, seed)
        else:
            cfg = compose_dbtl(f"strategy={strategy_name}")
            strategy = strategy_from_config(cfg.strategy, space, target, seed)
        batch = strategy.propose(built, ROUND2_DESIGNS, np.random.default_rng([seed, 2]))
        prediction, _ = strategy.predict(unbuilt)
        rank = {k: i + 1 for i, k in enumerate(design_keys(batch, columns))}
        frames.append(unbuilt.assign(seed=seed, rank=[rank.get(k, np.nan) for k in keys],
                                     prediction=np.asarray(prediction, float)))
        say(f"  round 2: {strategy_name} seed {seed} proposed {len(batch)}")
    return pd.concat(frames, ignore_index=True)


def score_round2(proposals: pd.DataFrame) -> dict[str, Any]:
    """Per seed, then mean ± sd: proposals in the authors' sub-library, those built in round 2
    and their measured mean there, and two Spearman correlations with the authors' AutoML
    ranking: of the strategy's predictions over all 1,121 unbuilt designs, and of its order of
    choice over its 96."""
    from scipy.stats import spearmanr

    from kinsynth.campaign.space import design_keys

    table, shipped = measured_table()
    columns, target = list(shipped.columns), shipped.target
    library = sub_library(table, columns)
    second = round_designs(table, columns, target, [2])
    round2_mean = dict(zip(design_keys(second, columns), second[target], strict=True))
    automl = automl_predictions(columns)
    automl_of = dict(zip(design_keys(automl, columns), automl["automl"], strict=True))
    per_seed = []
    for _, group in proposals.groupby("seed", sort=True):
        chosen = group[group["rank"].notna()].sort_values("rank")
        keys = design_keys(chosen, columns)
        built2 = [round2_mean[k] for k in keys if k in round2_mean]
        predicted = group["prediction"].to_numpy(float)
        every = [automl_of[k] for k in design_keys(group, columns)]
        library_rho = (spearmanr(predicted, every).statistic
                       if np.isfinite(predicted).all() and np.ptp(predicted) > 0 else np.nan)
        batch_rho = spearmanr(-chosen["rank"].to_numpy(float),
                              [automl_of[k] for k in keys]).statistic
        per_seed.append({"in_sub_library": sum(k in library for k in keys),
                         "built_in_round2": len(built2),
                         "round2_mean": float(np.mean(built2)) if built2 else np.nan,
                         "rho_library": library_rho, "rho_batch": batch_rho})
    return {"seeds": len(per_seed), **{key: [row[key] for row in per_seed]
                                       for key in per_seed[0]}}


def authors_reference() -> list[dict[str, Any]]:
    """The authors' own rows: their round-2 library as built, and their AutoML's top 96."""
    from kinsynth.campaign.space import design_keys

    table, shipped = measured_table()
    columns, target = list(shipped.columns), shipped.target
    library = sub_library(table, columns)
    second = round_designs(table, columns, target, [2])
    round2_mean = dict(zip(design_keys(second, columns), second[target], strict=True))
    top = automl_predictions(columns).nlargest(ROUND2_DESIGNS, "automl", keep="first")
    keys = design_keys(top, columns)
    built2 = [round2_mean[k] for k in keys if k in round2_mean]
    return [
        {"strategy": "authors' round 2 (as built)", "designs": len(library),
         "in_sub_library": len(library), "built_in_round2": len(second),
         "round2_mean": float(second[target].mean())},
        {"strategy": "authors' AutoML, its top 96", "designs": ROUND2_DESIGNS,
         "in_sub_library": sum(k in library for k in keys), "built_in_round2": len(built2),
         "round2_mean": float(np.mean(built2)) if built2 else np.nan},
    ]


# -------------------------------------------------------------------------------- report

def _mean_sd(values: Sequence[float], digits: str = ".3g") -> str:
    finite = np.asarray([v for v in values if np.isfinite(v)], float)
    if not len(finite):
        return "-"
    if len(finite) == 1:
        return f"{finite[0]:{digits}}"
    return f"{finite.mean():{digits}} ± {finite.std(ddof=1):.2g}"


def replay_tables(out: Path) -> tuple[pd.DataFrame, dict[str, pd.DataFrame],
                                       dict[str, pd.DataFrame]]:
    """(summary per budget and strategy; per budget, the curve: mean ``top10_found`` per
    strains built; per budget, every campaign's cycles) from the finished campaigns below
    ``<out>/g8h_cpr/replay/``. A strategy is its folder: one configuration, every seed."""
    from kinsynth.campaign.report import collect, found_column

    rows, curves, cycles_of = [], {}, {}
    for budget in BUDGETS:
        root = out / NAME / "replay" / budget
        folders = sorted(p for p in root.glob("*") if p.is_dir() and any(p.rglob(
            "campaign.json")))
        frames = []
        for folder in folders:
            cycles, summaries = collect([folder])
            found = found_column(list(summaries.columns)) or "top10_found"
            frames.append(cycles.assign(strategy=folder.name))
            seconds = _seconds(folder / "seconds.json")
            expected = summaries[f"random_{found}"].astype(float).mean()  # exact, every seed's
            rows.append({
                "budget": f"{budget} ({builds(budget)} builds)", "strategy": folder.name,
                "seeds": len(summaries),
                found: _mean_sd(summaries[found].astype(float)),
                f"random_{found} (exact)": f"{expected:.3g}",
                "best mean built (%)": _mean_sd(summaries["best_true_flux"].astype(float)),
                "wall-clock (s)": "-" if seconds is None else f"{seconds:.0f}",
            })
        if not frames:
            continue
        cycles = pd.concat(frames, ignore_index=True)
        found = found_column(list(cycles.columns)) or "top10_found"
        cycles_of[budget] = cycles
        curve = cycles.groupby(["strategy", "n_built"], sort=False)[found].mean().unstack()
        curve.loc["random (exact)"] = cycles.groupby("n_built")[f"random_{found}"].mean()
        curves[budget] = curve.round(2).reset_index()
    return pd.DataFrame(rows), curves, cycles_of


def _seconds(path: Path) -> float | None:
    """A step's recorded wall-clock, or None where it was not recorded."""
    return float(json.loads(path.read_text())["seconds"]) if path.is_file() else None


def round2_table(out: Path) -> pd.DataFrame:
    rows = []
    for path in sorted((out / NAME / "round2").glob("*.csv")):
        scores = score_round2(pd.read_csv(path))
        seconds = _seconds(path.with_suffix(".seconds.json"))
        rows.append({"strategy": path.stem, "designs": ROUND2_DESIGNS, "seeds": scores["seeds"],
                     "in_sub_library": _mean_sd(scores["in_sub_library"]),
                     "built_in_round2": _mean_sd(scores["built_in_round2"]),
                     "round2_mean": _mean_sd(scores["round2_mean"]),
                     "rho_library": _mean_sd(scores["rho_library"], ".2f"),
                     "rho_batch": _mean_sd(scores["rho_batch"], ".2f"),
                     "wall-clock (s)": "-" if seconds is None else f"{seconds:.0f}"})
    for row in authors_reference():
        rows.append({"seeds": "-", "rho_library": "-", "rho_batch": "-", "wall-clock (s)": "-",
                     **{k: (f"{v:.3g}" if isinstance(v, float) else v) for k, v in row.items()}})
    return pd.DataFrame(rows)


def write_report(out: Path) -> str:
    """``g8h_cpr.md`` and ``g8h_cpr_top10.png`` under ``<out>/g8h_cpr/``, each written whole."""
    from kinsynth.campaign.report import found_figure, markdown
    from kinsynth.core.errors import KinsynthError
    from kinsynth.core.writing import write_text

    summary, curves, cycles_of = replay_tables(out)
    round2 = round2_table(out) if (out / NAME / "round2").is_dir() else pd.DataFrame()
    if summary.empty and round2.empty:
        raise KinsynthError(f"{out / NAME}: no finished campaign or round-2 proposal to report")
    lines = ["# The real library: G8H x CPR (Petersen et al. 2024), replayed", ""]
    if not summary.empty:
        lines += ["## Replay over the 234 measured genotypes (one isolate drawn per build)", "",
                  markdown(summary), "",
                  "top10_found: genotypes of the 10 with the best mean strictosidine (% of "
                  "control) built, mean ± sd over seeds, after the last cycle; random (exact): "
                  "what as many distinct uniform random genotypes hold on average "
                  "(10 n / 234); best mean built: the best mean of a built genotype.", "",
                  "### top10_found per strains built (mean over seeds)", ""]
        for budget, curve in curves.items():
            lines += [f"{budget}:", "", markdown(curve), ""]
    if not round2.empty:
        lines += ["## The authors' round 2, replayed (fit on round 1, 96 of the 1,280 designs)",
                  "", markdown(round2), "",
                  "in_sub_library: proposals inside the authors' 140-design round-2 library; "
                  "built_in_round2: proposals the authors measured in round 2; round2_mean: "
                  "their mean there (% of control); rho_library: Spearman correlation of the "
                  "strategy's predictions of the 1,121 designs not built in round 1 with the "
                  "authors' AutoML predictions (- where a strategy predicts nothing); "
                  "rho_batch: of its order of choice over its 96 with the same.", ""]
    text = "\n".join(lines)
    folder = out / NAME
    write_text(text, folder / f"{NAME}.md", key="--out")
    if cycles_of:
        found_figure(cycles_of, folder / f"{NAME}_top10.png",
                     "strains built (one isolate drawn per build)")
    return text


# ----------------------------------------------------------------------------------- run

def run(strategies: Sequence[str], seeds: Sequence[int], out: Path, n_jobs: int,
        env: dict[str, str], root: Path, steps: Sequence[str] = ("replay", "round2"),
        dry_run: bool = False, say: Callable[[str], None] = print) -> int:
    """Every step for every strategy, a strategy that does not run on this space said in one
    line and skipped; then the report. Returns the exit status."""
    from kinsynth.core.writing import write_text

    planned = [(b, s) for b in BUDGETS for s in strategies] if "replay" in steps else []
    targets = [sweep_folder(out, b, s) for b, s in planned]
    targets += [out / NAME / "round2" / f"{s}.csv" for s in strategies] if "round2" in steps \
        else []
    taken = [t for t in targets if t.exists()]
    if taken and not dry_run:
        say(f"error: {taken[0]} exists; choose another --out, or --strategies without it "
            "(--report-only rewrites the tables)")
        return 1
    failed: list[str] = []
    for budget, strategy in planned:
        folder = sweep_folder(out, budget, strategy)
        if strategy == ANCHOR:
            say(f"anchor {budget} x {len(seeds)} seeds (in this process) -> {folder}")
            if dry_run:
                continue
            began = time.perf_counter()
            run_anchor(budget, seeds, folder, say)
        else:
            command = sweep_command(budget, strategy, seeds, folder, n_jobs)
            say(" ".join(command[1:]))
            if dry_run:
                continue
            began = time.perf_counter()
            result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                reason = (result.stderr.strip().splitlines() or ["?"])[-1]
                failed.append(f"{strategy} ({budget}): {reason}")
                say(f"skipped: {strategy} at {budget} does not run here: {reason}")
                continue
        seconds = time.perf_counter() - began
        write_text(json.dumps({"seconds": seconds, "seeds": list(seeds)}) + "\n",
                   folder / "seconds.json", key="--out")
        say(f"{strategy} {budget} x {len(seeds)} seeds: {seconds:.0f} s wall-clock")
    for strategy in strategies if "round2" in steps else ():
        path = out / NAME / "round2" / f"{strategy}.csv"
        say(f"round 2: {strategy} x {len(seeds)} seeds -> {path}")
        if dry_run:
            continue
        began = time.perf_counter()
        try:
            proposals = propose_round2(strategy, seeds, say)
        except Exception as error:  # noqa: BLE001  (a strategy that fails here is skipped, said)
            reason = " ".join(str(error).split())[:300]
            failed.append(f"{strategy} (round 2): {type(error).__name__}: {reason}")
            say(f"skipped: {strategy} in round 2: {reason}")
            continue
        from kinsynth.core.writing import write_csv

        write_csv(proposals, path)
        write_text(json.dumps({"seconds": time.perf_counter() - began}) + "\n",
                   path.with_suffix(".seconds.json"), key="--out")
    if dry_run:
        return 0
    say(write_report(out))
    for line in failed:
        say(f"did not run: {line}")
    return 0
