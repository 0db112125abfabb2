"""Design-build-test-learn campaigns: every strategy, the pool cache, libraries, a lab's step."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from support import TOY_ANTIMONY, run_cli

from kinsynth.campaign import run_campaign
from kinsynth.campaign.build import Builder
from kinsynth.campaign.pool import reference_pool
from kinsynth.campaign.propose import plate_columns
from kinsynth.campaign.space import DesignSpace, design_keys, drop_built
from kinsynth.campaign.strategies.random_designs import RandomStrategy
from kinsynth.core.errors import KinsynthError
from kinsynth.simulate.model import load_model

CONF = Path(__file__).resolve().parents[2] / "conf"
SMALL = ["initial_designs=10", "cycles=2", "designs_per_cycle=10", "pool.n=600",
         "strategy.pool_size=300"]


def compose(tmp_path: Path, *overrides: str):
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = hydra_compose("dbtl", overrides=list(overrides))
    cfg = OmegaConf.to_container(cfg, resolve=False)
    cfg["pool"]["cache_dir"] = str(tmp_path / "pool_cache")
    cfg.pop("hydra", None)
    return OmegaConf.create(cfg)


@pytest.fixture(scope="module")
def spec():
    return load_model()


#: each strategy's settings for a campaign of a few seconds; a registered strategy missing here
#: fails the test below, so a new strategy cannot go untested
FAST = {
    "random": [],
    "recommender": ["strategy.pool_size=300"],
    "vanlent": ["strategy.search_iterations=2", "strategy.pool_size=300"],
    "bo": ["strategy.pool_size=300", "strategy.mc_samples=16"],
    "generative": ["strategy.epochs=20", "strategy.oversample=5", "strategy.random_pool=300"],
}


def test_every_registered_strategy_has_a_short_campaign_below():
    from kinsynth.campaign.strategies import strategy_names

    assert sorted(FAST) == sorted(strategy_names())


@pytest.mark.parametrize("strategy", [*FAST, "generative-library"])
def test_a_short_campaign_of_every_strategy(tmp_path, strategy):
    extra = FAST[strategy.split("-")[0]]
    if strategy == "generative-library":  # columns ranging [0.8, 1.2] get only the level 1
        strategy, extra = "generative", [*extra, "space.levels=[0.5,0.75,1,1.5,2]"]
    overrides = [o for o in SMALL if "pool_size" not in o]
    cfg = compose(tmp_path, f"strategy={strategy}", *overrides, *extra)
    table = run_campaign(cfg, tmp_path / "run")
    assert list(table["cycle"]) == [0, 1, 2] and list(table["n_built"]) == [10, 20, 30]
    for column in ("best_flux", "batch_mean_flux", "batch_valid_fraction", "batch_top_fraction",
                   "cumulative_top", "batch_diversity", "propose_seconds"):
        assert column in table
    assert (table["best_flux"].diff().dropna() >= 0).all()  # the best so far never falls
    assert table["cumulative_top"].is_monotonic_increasing
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    assert len(built) == 30 and set(built["cycle"]) == {0, 1, 2}
    assert built.loc[~built["valid"], "Product_I"].isna().all()  # failures: built, no flux
    assert len(set(design_keys(built, load_model().columns))) == 30  # none built twice
    assert (tmp_path / "run" / "flux_per_cycle.png").is_file()
    again = run_campaign(compose(tmp_path, f"strategy={strategy}", *overrides, *extra,
                                 "overwrite=true"), tmp_path / "run")
    pd.testing.assert_frame_equal(again.drop(columns=["propose_seconds", "build_seconds"]),
                                  table.drop(columns=["propose_seconds", "build_seconds"]))


def test_the_reference_pool_is_simulated_once(tmp_path, spec):
    space, builder = DesignSpace.from_spec(spec), Builder(spec)
    first = reference_pool(builder, space, 300, 1, tmp_path)
    second = reference_pool(builder, space, 300, 1, tmp_path)
    assert first.simulated and not second.simulated
    np.testing.assert_array_equal(first.flux, second.flux)
    assert first.q95 < first.q99 <= np.nanmax(first.flux)
    assert reference_pool(builder, space, 300, 2, tmp_path).simulated  # another seed, another pool


def test_snapping_to_a_discrete_library(spec):
    space = DesignSpace.from_spec(spec, [0.5, 0.9, 1, 1.1, 2])
    wide = spec.columns.index("vmax_forward_Enz_A")  # range [0.5, 2]
    designs = pd.DataFrame(np.ones((4, len(spec.columns))), columns=spec.columns)
    designs[spec.columns[wide]] = [0.6, 0.72, 1.9, 5.0]
    snapped = space.snap(designs)
    # nearest in log space: 0.6 -> 0.5 (log distance 0.18 vs 0.41), 0.72 -> 0.9 (0.22 vs 0.36)
    # 1.9 -> 2; 5 is clipped to the range's 2
    assert snapped[spec.columns[wide]].tolist() == [0.5, 0.9, 2.0, 2.0]
    for j, column in enumerate(spec.columns):  # every value is one of its column's levels
        assert set(snapped[column]) <= set(space.column_levels(j))
    narrow = [j for j in range(len(spec.columns)) if space.highs[j] < 2]
    assert narrow and all(2.0 not in space.column_levels(j) for j in narrow)


def test_duplicates_are_never_rebuilt(spec):
    space = DesignSpace.from_spec(spec, [0.5, 0.9, 1.1, 2])
    rng = np.random.default_rng(0)
    built = space.sample(50, rng).assign(valid=True, Product_I=1.0)
    proposals = pd.concat([built.iloc[:5], built.iloc[:5], space.sample(5, rng)])
    kept = drop_built(proposals, built, spec.columns)
    assert not set(design_keys(kept, spec.columns)) & set(design_keys(built, spec.columns))
    assert len(set(design_keys(kept, spec.columns))) == len(kept)
    fresh = RandomStrategy(space, "Product_I").propose(built, 20, rng)
    assert len(fresh) == 20 and not set(design_keys(fresh, spec.columns)) & set(
        design_keys(built, spec.columns))


def test_a_library_level_outside_the_ranges_is_refused(spec):
    with pytest.raises(KinsynthError, match=r"space.levels: \[4.0\] lie outside"):
        DesignSpace.from_spec(spec, [0.5, 1, 4])
    with pytest.raises(KinsynthError, match="none lies in"):
        DesignSpace.from_spec(spec, [0.5, 2])  # nothing for the columns ranging [0.8, 1.2]


def _lab_table(path: Path, spec, with_target: bool = True) -> Path:
    rng = np.random.default_rng(3)
    table = DesignSpace.from_spec(spec).sample(40, rng)
    if with_target:
        table["Product_I"] = rng.uniform(0.2, 1.5, 40)
        table.loc[:4, "Product_I"] = np.nan  # strains that did not produce
    table.to_csv(path, index=False)
    return path


@pytest.mark.slow  # several CLI runs end to end: CI runs it, -m 'not slow' skips it
def test_step_propose_on_a_labs_table(tmp_path, spec):
    built = _lab_table(tmp_path / "built.csv", spec)
    out = tmp_path / "next_plate.csv"
    result = run_cli("dbtl.py", "step=propose", "strategy=recommender", f"data.path={built}",
                     "designs_per_cycle=12", f"out={out}", cwd=tmp_path)
    assert "wrote 12 proposed designs" in result.stdout
    plate = pd.read_csv(out)
    assert list(plate.columns) == [*spec.columns, *plate_columns("Product_I")] and len(plate) == 12
    assert not set(design_keys(plate, spec.columns)) & set(
        design_keys(pd.read_csv(built), spec.columns))
    again = run_cli("dbtl.py", "step=propose", f"data.path={built}", f"out={out}",
                    cwd=tmp_path, check=False)  # never overwrites the plate
    assert again.returncode == 1 and "exists" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["strategy=bogus"], "strategy"),
        (["space.levels=[0.25,1,2]"], "space.levels: [0.25] lie outside"),
        (["space.vary=[vmax_forward_Enz_Z]"], "space.vary: ['vmax_forward_Enz_Z'] is not a list"),
        (["step=propose", "data.path=BUILT_NO_TARGET", "out=x.csv"],
         "lacks column(s) ['Product_I']"),
    ],
)
def test_bad_input_is_one_line(tmp_path, spec, args, message):
    no_target = _lab_table(tmp_path / "no_target.csv", spec, with_target=False)
    args = [a.replace("BUILT_NO_TARGET", str(no_target)) for a in args]
    result = run_cli("dbtl.py", *args, *SMALL[:3], "pool.n=300", cwd=tmp_path, check=False)
    assert result.returncode != 0
    assert message in result.stderr and "Traceback" not in result.stderr


def test_the_comparison_report(tmp_path):
    from kinsynth.campaign.report import write_report

    for strategy, seed in (("random", 0), ("random", 1), ("recommender", 0)):
        overrides = [o for o in SMALL if "pool_size" not in o]
        cfg = compose(tmp_path, f"strategy={strategy}", f"seed={seed}", *overrides)
        run_campaign(cfg, tmp_path / "sweep" / f"{strategy}{seed}")
    text = write_report([tmp_path / "sweep"], tmp_path / "report")
    lines = text.splitlines()
    assert lines[0].startswith("| strategy | seeds | cumulative_top")
    assert lines[2].startswith("| random | 2 |") and lines[3].startswith("| recommender | 1 |")
    assert (tmp_path / "report" / "dbtl_cumulative_top.png").is_file()
    summary = json.loads((tmp_path / "sweep" / "random0" / "campaign.json").read_text())
    assert summary["pool_q95"] < summary["pool_q99"]


def test_the_report_gives_each_swept_setting_its_own_row(tmp_path):
    """A sweep over an option (here initial_designs=10,12, two seeds each) is two rows, not one
    pooled row; settings all campaigns share and the seed stay out of the label."""
    import yaml

    from kinsynth.campaign.report import write_report

    for initial, seed in ((10, 0), (10, 1), (12, 0), (12, 1)):
        overrides = ["strategy=random", f"seed={seed}", f"initial_designs={initial}",
                     "cycles=1", "designs_per_cycle=5", "pool.n=300"]
        run = tmp_path / "sweep" / f"{initial}_{seed}"
        run_campaign(compose(tmp_path, *overrides), run)
        (run / ".hydra").mkdir()  # as Hydra records a sweep job's command line
        (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    lines = write_report([tmp_path / "sweep"], tmp_path / "report").splitlines()
    assert lines[2].startswith("| random initial_designs=10 | 2 |"), lines
    assert lines[3].startswith("| random initial_designs=12 | 2 |"), lines
    assert len(lines) == 6  # header, rule, two rows, a blank line, the note


@pytest.mark.slow  # several CLI runs end to end: CI runs it, -m 'not slow' skips it
def test_a_campaign_sweep_ends_with_its_table(tmp_path):
    sweep = tmp_path / "sweep"
    result = run_cli("dbtl.py", "-m", "strategy=random,recommender", *SMALL[:4],
                     f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    console = result.stdout + result.stderr
    table = console[console.index("job  overrides"):].splitlines()
    assert table[0].split()[2:5] == ["cumulative_top", "best_true_flux", "strains_to_q99"]
    assert table[1].split()[:2] == ["0", "strategy=random"] and table[1].endswith("ok")
    assert table[2].split()[:2] == ["1", "strategy=recommender"] and table[2].endswith("ok")


LIBRARY = ["space.levels=[0.5,0.75,1,1.5,2]",
           "space.vary=[vmax_forward_Enz_A,vmax_forward_TKT2,km_substrate1_Enz_A]",
           "metrics.judge=false"]  # the judge has its own tests (test_vanlent_protocol.py)


def test_a_library_over_a_few_columns_counts_its_true_top100(tmp_path, spec):
    cfg = compose(tmp_path, "strategy=random", *SMALL[:3], "pool.n=300", *LIBRARY)
    table = run_campaign(cfg, tmp_path / "run")
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    varied = ["vmax_forward_Enz_A", "vmax_forward_TKT2", "km_substrate1_Enz_A"]
    assert (built[[c for c in spec.columns if c not in varied]] == 1.0).all().all()
    assert set(np.unique(built[varied])) <= {0.5, 0.75, 1.0, 1.5, 2.0}
    # the whole library (5 x 5 x 5 = 125 designs), simulated here independently of the campaign
    space = DesignSpace.from_spec(spec, [0.5, 0.75, 1, 1.5, 2], varied)
    assert space.library_size == 125
    grid = pd.DataFrame(1.0, index=range(125), columns=spec.columns)
    levels = np.meshgrid(*[[0.5, 0.75, 1, 1.5, 2]] * 3, indexing="ij")
    grid[varied] = np.array(levels).reshape(3, -1).T
    flux, _ = Builder(spec).true_flux(grid)
    ok = np.flatnonzero(np.isfinite(flux))
    top = set(design_keys(grid.iloc[ok[np.argsort(-flux[ok])[:100]]], spec.columns))
    found = len(top & set(design_keys(built, spec.columns)))
    assert table["top100_found"].iloc[-1] == found and 0 < found <= 30
    assert table["top100_found"].is_monotonic_increasing
    cached = list((tmp_path / "pool_cache").glob("library-*.npy"))
    assert len(cached) == 1 and np.load(cached[0]).shape == (125,)


def test_space_vary_names_the_models_columns(spec):
    with pytest.raises(KinsynthError, match=r"space.vary: \['Enz_Z'\] is not a list"):
        DesignSpace.from_spec(spec, None, ["vmax_forward_Enz_A", "Enz_Z"])
    space = DesignSpace.from_spec(spec, None, "vmax_forward_Enz_A")  # one name, as on a CLI
    draws = space.sample(50, np.random.default_rng(0))
    assert draws["vmax_forward_Enz_A"].nunique() == 50
    assert (draws.drop(columns="vmax_forward_Enz_A") == 1.0).all().all()


def test_a_small_library_still_gets_full_batches_of_new_designs(tmp_path, spec):
    # 125 designs, a generator asked for one candidate per strain and no random pool: its
    # snapped proposals repeat built designs, and the batch is topped up with unbuilt ones
    cfg = compose(tmp_path, "strategy=generative", *SMALL[:3], "pool.n=300", *LIBRARY,
                  "strategy.epochs=10", "strategy.oversample=1", "strategy.random_pool=0")
    table = run_campaign(cfg, tmp_path / "run")
    assert list(table["n_built"]) == [10, 20, 30]
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    assert len(set(design_keys(built, spec.columns))) == 30


def test_a_campaign_on_a_users_own_model(tmp_path):
    (tmp_path / "toy.ant").write_text(TOY_ANTIMONY)
    (tmp_path / "ranges.csv").write_text(
        "id,low,high\nk_in,0.5,1.5\nvmax_out,0.5,2.0\nkm_out,0.5,2.0\n")
    cfg = compose(tmp_path, "strategy=recommender", *SMALL, f"space.model_file={tmp_path}/toy.ant",
                  f"space.ranges={tmp_path}/ranges.csv", "space.flux=J_out")
    table = run_campaign(cfg, tmp_path / "run")
    built = pd.read_csv(tmp_path / "run" / "built.csv")
    assert list(built.columns[:4]) == ["k_in", "vmax_out", "km_out", "J_out"]
    # a steady state exists only while uptake stays below capacity; then the flux is the uptake
    ok = built["valid"]
    assert (built.loc[ok, "k_in"] < 2 * built.loc[ok, "vmax_out"]).all()
    np.testing.assert_allclose(built.loc[ok, "J_out"], built.loc[ok, "k_in"], rtol=1e-5)
    assert table["n_built"].iloc[-1] == 30 and table["cumulative_top"].iloc[-1] > 0


def test_step_propose_on_a_table_of_only_the_varied_columns(tmp_path, spec):
    from kinsynth.campaign import propose_from_table

    varied = ["vmax_forward_Enz_A", "vmax_forward_TKT2", "km_substrate1_Enz_A"]
    rng = np.random.default_rng(4)
    lab = pd.DataFrame(rng.choice([0.5, 0.75, 1, 1.5, 2], size=(30, 3)), columns=varied)
    lab["Product_I"] = rng.uniform(0.3, 1.5, 30)
    lab.to_csv(tmp_path / "lab.csv", index=False)
    out = tmp_path / "plate.csv"
    cfg = compose(tmp_path, "step=propose", "strategy=recommender", "strategy.pool_size=200",
                  *LIBRARY, f"data.path={tmp_path / 'lab.csv'}", f"out={out}",
                  "designs_per_cycle=8")
    propose_from_table(cfg)
    plate = pd.read_csv(out)
    assert len(plate) == 8 and list(plate.columns) == [*spec.columns, *plate_columns("Product_I")]
    plate = plate[spec.columns]
    assert (plate.drop(columns=varied) == 1.0).all().all()  # the parent strain's fold change
    assert not set(design_keys(plate[varied], varied)) & set(design_keys(lab, varied))


def test_threads_sets_torchs_threads_and_a_bad_value_is_one_line(tmp_path):
    import torch

    before = torch.get_num_threads()
    try:
        run_campaign(compose(tmp_path, "strategy=random", *SMALL[:3], "pool.n=300", "cycles=0",
                             "threads=2"), tmp_path / "run")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
    with pytest.raises(KinsynthError, match=r"threads=0: expected a positive integer"):
        run_campaign(compose(tmp_path, "strategy=random", *SMALL[:3], "threads=0"),
                     tmp_path / "bad")
