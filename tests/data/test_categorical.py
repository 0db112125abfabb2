"""Tables with named parts: categorical columns read, recorded, one-hot encoded and decoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from kinsynth.core.errors import KinsynthError
from kinsynth.data import KineticDataModule, read_table
from kinsynth.data.transforms import ColumnTransform
from kinsynth.models.checkpoints import check_section, kinsynth_section, transform_from_checkpoint


def mixed_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Two slots of part names, one number and a target that depends on both."""
    rng = np.random.default_rng(seed)
    promoter = rng.choice(["pTEF1", "pCYC1", "pENO2"], size=n)
    gene = rng.choice(["B", "A"], size=n)
    strength = rng.uniform(0.5, 2.0, size=n)
    titre = strength * np.where(promoter == "pTEF1", 3.0, 1.0) + (gene == "A")
    titre = titre + rng.normal(0, 0.1, n)
    return pd.DataFrame({"promoter": promoter, "gene": gene, "strength": strength, "titre": titre})


def test_text_columns_are_categorical_with_sorted_levels(write_text) -> None:
    path = write_text("p,g,x,y\npB,g2,1,3\npA,g1,2,4\npC,g2,3,5\n")
    table = read_table(path, target="y")
    assert table.features == ["p", "g", "x"]
    assert table.levels == {"p": ["pA", "pB", "pC"], "g": ["g1", "g2"]}
    assert table.frame["p"].tolist() == ["pB", "pA", "pC"]
    assert table.frame["x"].dtype == np.float64
    assert table.numeric == ["x", "y"]


def test_declared_categorical_reads_codes_as_names(write_text) -> None:
    path = write_text("code,x,y\n1,1,3\n2,2,4\n10,3,5\n")
    table = read_table(path, target="y", categorical=["code"])
    assert table.levels == {"code": ["1", "10", "2"]}  # sorted as text: a stable order
    assert table.frame["code"].tolist() == ["1", "2", "10"]


def test_column_mixing_numbers_and_names_is_still_a_bad_cell(write_text, assert_one_line) -> None:
    path = write_text("p,y\n1,3\npA,4\n2,5\n")
    with pytest.raises(KinsynthError) as error:
        read_table(path, target="y")
    assert_one_line(error, "table.csv", "'p'", "'pA'", "row 2", "expected numbers")


def test_single_level_column_is_dropped_with_a_warning(write_text) -> None:
    path = write_text("p,g,y\npA,g1,3\npB,g1,4\npA,g1,5\n")
    with pytest.warns(UserWarning, match="dropping constant feature column\\(s\\) 'g'"):
        table = read_table(path, target="y")
    assert table.features == ["p"] and table.dropped_constant == ["g"]
    assert table.levels == {"p": ["pA", "pB"]}


def test_empty_part_name_names_its_row(write_text, assert_one_line) -> None:
    path = write_text("p,y\npA,3\n,4\npB,5\n")
    with pytest.raises(KinsynthError) as error:
        read_table(path, target="y")
    assert_one_line(error, "table.csv", "'p'", "row 2", "expected a name")


def test_target_declared_categorical_is_refused(write_text, assert_one_line) -> None:
    with pytest.raises(KinsynthError) as error:
        read_table(write_text("p,y\npA,3\npB,4\n"), target="y", categorical=["y"])
    assert_one_line(error, "target column 'y'", "numeric target")


def test_transform_one_hot_round_trip_and_unknown_level() -> None:
    frame = mixed_frame()
    levels = {"promoter": ["pCYC1", "pENO2", "pTEF1"], "gene": ["A", "B"]}
    transform = ColumnTransform("standard").fit(frame, levels=levels)
    columns = list(frame.columns)
    scaled = transform.transform(frame, columns)
    assert scaled.shape == (len(frame), 3 + 2 + 1 + 1) == (len(frame), transform.width(columns))
    np.testing.assert_array_equal(scaled[:, :3].sum(axis=1), 1.0)
    assert scaled[0, :3].argmax() == levels["promoter"].index(frame["promoter"].iloc[0])
    back = transform.names(pd.DataFrame(transform.inverse_transform(scaled, columns),
                                        columns=columns))
    assert back["promoter"].tolist() == frame["promoter"].tolist()
    assert back["gene"].tolist() == frame["gene"].tolist()
    np.testing.assert_allclose(back["strength"], frame["strength"], rtol=1e-6)
    bad = frame.head(3).copy()
    bad.loc[1, "promoter"] = "pGAL1"
    with pytest.raises(KinsynthError, match="column 'promoter': row 1 has 'pGAL1', a level the "
                                            "model does not know; known levels: pCYC1, pENO2, "
                                            "pTEF1$"):
        transform.transform(bad, columns)


def test_levels_travel_in_the_checkpoint_as_plain_data() -> None:
    frame = mixed_frame()
    levels = {"promoter": ["pCYC1", "pENO2", "pTEF1"], "gene": ["A", "B"]}
    transform = ColumnTransform("quantile", n_quantiles=10).fit(frame, levels=levels)
    checkpoint = {"kinsynth": kinsynth_section("LatentVariableModel", transform)}
    check_section(checkpoint, "test")
    loaded = transform_from_checkpoint(checkpoint)
    assert loaded is not None and loaded.levels_ == levels
    np.testing.assert_array_equal(loaded.transform(frame), transform.transform(frame))
    numeric = ColumnTransform("standard").fit(frame[["strength", "titre"]])
    assert "levels" not in numeric.to_state()  # a numeric run's checkpoint is unchanged


def test_datamodule_serves_one_hot_features() -> None:
    frame = mixed_frame()
    dm = KineticDataModule(target="titre", frame=frame, transform="standard", split=(0.6, .2, .2))
    dm.setup()
    assert dm.levels == {"promoter": ["pCYC1", "pENO2", "pTEF1"], "gene": ["A", "B"]}
    assert dm.train_x.shape == (36, 6) and dm.train_y is not None and dm.train_y.shape == (36, 1)
    assert torch.equal(dm.train_x[:, :5].sum(dim=1), torch.full((36,), 2.0))


G8H = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "g8h_cpr" / "data.csv"


@pytest.mark.skipif(not G8H.is_file(), reason="needs ../shared/data/g8h_cpr/data.csv")
def test_g8h_library_reads_as_four_slots() -> None:
    table = read_table(G8H, target="strictosidine_pct_of_control",
                       features=["G8H", "pG8H", "pCPR", "CPR"])
    assert [len(table.levels[slot]) for slot in table.features] == [8, 4, 4, 10]
    assert len(table) == 296
