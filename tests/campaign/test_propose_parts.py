"""The lab's next plate with part names: ``dbtl.py step=propose`` and ``kinsynth.propose`` on a
library of parts (no kinetic model), a candidate list or a measured table; only buildable designs,
replicates averaged, and a plate that carries the prediction, its uncertainty and the rank."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import REPO_ROOT, compose_dbtl

import kinsynth
from kinsynth.campaign import landscape as landscape_module
from kinsynth.campaign import propose_from_table
from kinsynth.campaign.part_config import space_from_config
from kinsynth.campaign.propose import check_built, plate_columns, propose_plate, ranked_plate
from kinsynth.campaign.space import DesignSpace, design_keys
from kinsynth.core.errors import KinsynthError
from kinsynth.core.writing import FLOAT_FORMAT
from kinsynth.simulate.model import load_model

G8H = REPO_ROOT.parent / "shared" / "data" / "g8h_cpr"
SPACE = {"factors": {"P": ["pA", "pB", "pC", "pD"], "G": ["x", "y", "z"]},
         "sets": {"kd": {"genes": ["a", "b", "c"], "min": 0, "max": 2}},
         "exclude": [{"P": "pD", "G": "z"}]}
SPACE_ARGS = ["space.factors={P:[pA,pB,pC,pD],G:[x,y,z]}",
              "space.sets={kd:{genes:[a,b,c],min:0,max:2}}", "space.exclude=[{P:pD,G:z}]"]
FAST = {"random": [], "recommender": ["strategy.pool_size=300"]}


def lab_built(n: int = 24, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct built designs of :data:`SPACE` with a measured titre (two failed)."""
    space = space_from_config(SPACE)
    built = space.enumerate().sample(n, random_state=seed).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    built["titre"] = rng.uniform(0, 10, n)
    built.loc[[3, 8], "titre"] = np.nan
    return built


@pytest.fixture
def no_model(monkeypatch):
    """A library of parts loads no kinetic model: loading one fails the test."""
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a kinetic model was loaded")

    monkeypatch.setattr(landscape_module, "load_space_model", refuse)


@pytest.mark.parametrize("strategy", ["random", "recommender"])
def test_step_propose_writes_a_ranked_plate_of_buildable_part_designs(tmp_path, no_model,
                                                                      strategy):
    built = lab_built()
    built.to_csv(tmp_path / "built.csv", index=False)
    out = tmp_path / "plate.csv"
    cfg = compose_dbtl(tmp_path, "step=propose", f"strategy={strategy}", *FAST[strategy],
                       *SPACE_ARGS, "data.target=titre", f"data.path={tmp_path / 'built.csv'}",
                       f"out={out}", "designs_per_cycle=12")
    returned = propose_from_table(cfg)
    plate = pd.read_csv(out)
    pd.testing.assert_frame_equal(plate, returned, check_dtype=False)
    columns = ["P", "G", "a", "b", "c"]
    assert list(plate.columns) == [*columns, "predicted_titre", "uncertainty_titre", "rank"]
    assert "titre" not in plate  # the request or a prediction is never in the measured column
    assert plate["rank"].tolist() == list(range(1, 13))
    assert plate["P"].isin(["pA", "pB", "pC", "pD"]).all() and plate["G"].isin(list("xyz")).all()
    assert not ((plate["P"] == "pD") & (plate["G"] == "z")).any()  # never an excluded design
    assert plate[["a", "b", "c"]].sum(axis=1).le(2).all()
    keys = design_keys(plate, columns)
    assert len(set(keys)) == 12 and not set(keys) & set(design_keys(built, columns))


def test_a_candidate_list_alone_with_space_columns_is_the_space(tmp_path, no_model):
    """The buildable list names its designs (and an id the space leaves out)."""
    space = space_from_config(SPACE)
    listed = space.enumerate().iloc[::3].reset_index(drop=True)
    listed.insert(0, "design_id", [f"d{i}" for i in range(len(listed))])
    listed.to_csv(tmp_path / "buildable.csv", index=False)
    built = listed.iloc[:10].drop(columns="design_id").assign(
        titre=np.linspace(1, 5, 10), plate_well=[f"A{i}" for i in range(10)])
    plate = kinsynth.propose(built, n=len(listed), strategy="random", target="titre",
                             space={"candidates": str(tmp_path / "buildable.csv"),
                                    "columns": ["P", "G", "a", "b", "c"]})
    columns = ["P", "G", "a", "b", "c"]
    # every listed design not yet built, and nothing else
    assert len(plate) == len(listed) - 10
    assert set(design_keys(plate, columns)) == set(design_keys(listed.iloc[10:], columns))


def test_replicates_are_averaged_and_an_empty_response_is_a_failure():
    space = space_from_config(SPACE)
    table = pd.DataFrame({"P": ["pA", " pA", "pB", "pB", "pC"], "G": ["x", "x", "y", "y", "z"],
                          "a": [1, 1, 0, 0, 0], "b": [0, 0, 0, 0, 1], "c": [0, 0, 0, 0, 0],
                          "titre": [2.0, 4.0, np.nan, np.nan, 0.0]})
    built = check_built(table, ["P", "G", "a", "b", "c"], "titre", {}, "lab.csv", space)
    assert len(built) == 3
    assert built["titre"].tolist()[0] == 3.0 and np.isnan(built["titre"].tolist()[1])
    assert built["valid"].tolist() == [True, False, True]  # a zero is a measured zero
    assert built["P"].tolist() == ["pA", "pB", "pC"]


def test_a_measured_table_is_the_space_of_the_plate(tmp_path):
    space = space_from_config({"factors": SPACE["factors"]})
    measured = space.enumerate().iloc[:9]
    table = pd.concat([measured, measured.iloc[:4]], ignore_index=True)
    table["yield"] = np.arange(len(table), dtype=float)
    table.to_csv(tmp_path / "measured.csv", index=False)
    built = measured.iloc[:5].assign(**{"yield": [1.0, 2.0, 3.0, 4.0, 5.0]})
    plate = kinsynth.propose(built, n=8, strategy="random",
                             space={"landscape": str(tmp_path / "measured.csv"),
                                    "target": "yield"})
    # only the table's 4 designs not yet built can be proposed
    assert set(design_keys(plate, ["P", "G"])) == set(design_keys(measured.iloc[5:], ["P", "G"]))
    assert list(plate.columns) == ["P", "G", *plate_columns("yield")]
    again = kinsynth.propose(built, n=8, strategy="random", target="yield",
                             space={"landscape": str(tmp_path / "measured.csv")})
    pd.testing.assert_frame_equal(plate, again)  # data.target names space.target's column


class Predicts:
    """A strategy's predict(): a fixed prediction per design, NaN for some."""

    name = "fixed"

    def __init__(self, predicted: list[float]) -> None:
        self.predicted = np.array(predicted, float)

    def predict(self, designs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        return self.predicted, self.predicted / 10


def test_the_rank_follows_the_prediction_and_the_strategys_order_where_it_has_none():
    designs = pd.DataFrame({"P": ["pA", "pB", "pC", "pD", "pE"]})
    plate = ranked_plate(designs, Predicts([1.0, np.nan, 3.0, 1.0, np.nan]), "titre")
    assert plate["P"].tolist() == ["pC", "pA", "pD", "pB", "pE"]  # ties and NaN keep the order
    assert plate["rank"].tolist() == [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(plate["predicted_titre"], [3.0, 1.0, 1.0, np.nan, np.nan])
    np.testing.assert_array_equal(plate["uncertainty_titre"], [0.3, 0.1, 0.1, np.nan, np.nan])
    with pytest.raises(KinsynthError, match=r"^strategy=fixed: predict\(\) returned 2 "):
        ranked_plate(designs, Predicts([1.0, 2.0]), "titre")


def test_a_design_column_named_like_a_plate_column_is_one_line(tmp_path):
    built = pd.DataFrame({"rank": ["r1", "r2", "r1", "r2", "r1", "r2"],
                          "titre": [1.0, 2, 3, 4, 5, 6]})
    with pytest.raises(KinsynthError) as error:
        kinsynth.propose(built, n=2, strategy="random", target="titre",
                         space={"factors": {"rank": ["r1", "r2", "r3"]}})
    assert "\n" not in str(error.value)
    assert "design column 'rank' is a name the plate gives its rank" in str(error.value)


#: the numeric plate's design columns as today's code writes them (sha256 of their CSV text)
NUMERIC_RANDOM = "2c6a847f669e0b4a1cfc675805e3ca78eacd1472301ec71617c5573c951128e7"
#: the recommender's designs as a set (their rows sorted): the rank may order them once the
#: recommender predicts
NUMERIC_RECOMMENDER_SET = "26b01df65a27da6a19dc8a7f2840bf393bcbc624f6429a35cc88b1b080fe4398"


def _numeric_plate(tmp_path: Path, strategy: str) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(3)
    spec = load_model()
    table = DesignSpace.from_spec(spec).sample(40, rng)
    table["Product_I"] = rng.uniform(0.2, 1.5, 40)
    table.loc[:4, "Product_I"] = np.nan
    cfg = compose_dbtl(tmp_path, "step=propose", f"strategy={strategy}", *FAST[strategy],
                       "designs_per_cycle=6", "seed=1")
    return propose_plate(cfg, table), list(spec.columns)


def test_a_numeric_spaces_plate_keeps_its_designs(tmp_path):
    plate, columns = _numeric_plate(tmp_path, "random")
    assert list(plate.columns) == [*columns, *plate_columns("Product_I")]
    text = plate[columns].to_csv(index=False, float_format=FLOAT_FORMAT)
    assert hashlib.sha256(text.encode()).hexdigest() == NUMERIC_RANDOM
    plate, columns = _numeric_plate(tmp_path, "recommender")
    rows = plate[columns].sort_values(columns).to_csv(index=False, float_format=FLOAT_FORMAT)
    assert hashlib.sha256(rows.encode()).hexdigest() == NUMERIC_RECOMMENDER_SET


@pytest.mark.skipif(not (G8H / "data.csv").is_file(),
                    reason="needs ../shared/data/g8h_cpr (the G8H x CPR library)")
def test_the_g8h_library_gets_a_plate_of_unbuilt_named_designs(tmp_path, no_model):
    out = tmp_path / "plate.csv"
    cfg = compose_dbtl(tmp_path, "step=propose", "strategy=recommender",
                       f"space.candidates={G8H / 'design_space.csv'}",
                       "space.columns=[G8H,pG8H,pCPR,CPR]", f"data.path={G8H / 'data.csv'}",
                       "data.target=strictosidine_pct_of_control", "designs_per_cycle=96",
                       f"out={out}", "strategy.pool_size=2000")
    propose_from_table(cfg)
    plate = pd.read_csv(out)
    columns = ["G8H", "pG8H", "pCPR", "CPR"]
    assert len(plate) == 96 and plate["rank"].tolist() == list(range(1, 97))
    library = pd.read_csv(G8H / "design_space.csv")
    built = pd.read_csv(G8H / "data.csv")
    keys = set(design_keys(plate, columns))
    assert len(keys) == 96 and keys <= set(design_keys(library, columns))
    assert not keys & set(design_keys(built, columns))  # none of the 234 measured genotypes
