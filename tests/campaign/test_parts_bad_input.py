"""Bad input to a library of parts, through ``dbtl.py``'s code in-process: one line naming the
file or setting, the column, the row and what was expected, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from support import compose_dbtl

from kinsynth.campaign import propose_from_table, run_campaign
from kinsynth.core.errors import KinsynthError

FACTORS = "space.factors={P:[pA,pB,pC],G:[x,y]}"
SETS = "space.sets={kd:{genes:[a,b,c],max:2}}"


def lab(tmp_path: Path, **cells: object) -> Path:
    """A built table of 6 part designs with a titre; ``cells`` replace data row 3's."""
    table = pd.DataFrame({"P": ["pA", "pB", "pC", "pA", "pB", "pC"],
                          "G": ["x", "y", "x", "y", "x", "y"],
                          "titre": [1.0, 2, 3, 4, 5, 6]})
    for column, value in cells.items():
        table[column] = table[column].astype(object)
        table.loc[2, column] = value
    table.to_csv(tmp_path / "lab.csv", index=False)
    return tmp_path / "lab.csv"


def write(tmp_path: Path, name: str, table: dict[str, list[object]]) -> Path:
    pd.DataFrame(table).to_csv(tmp_path / name, index=False)
    return tmp_path / name


def refused_plate(tmp_path: Path, *overrides: str) -> str:
    """step=propose's one-line refusal; the plate is not written."""
    out = tmp_path / "plate.csv"
    cfg = compose_dbtl(tmp_path, "step=propose", "strategy=random", f"out={out}",
                       "designs_per_cycle=3", *overrides)
    with pytest.raises(KinsynthError) as error:
        propose_from_table(cfg)
    assert not out.exists()
    message = str(error.value)
    assert "\n" not in message
    return message


def refused_campaign(tmp_path: Path, *overrides: str) -> str:
    """A campaign's one-line refusal; its directory holds nothing but the run lock."""
    run = tmp_path / "run"
    cfg = compose_dbtl(tmp_path, "strategy=random", "initial_designs=2", "cycles=1",
                       "designs_per_cycle=1", "metrics.judge=false", *overrides)
    with pytest.raises(KinsynthError) as error:
        run_campaign(cfg, run)
    assert sorted(p.name for p in run.iterdir()) == [".kinsynth.lock"]
    message = str(error.value)
    assert "\n" not in message
    return message


def test_a_built_part_outside_the_space_names_column_row_and_known_parts(tmp_path):
    message = refused_plate(tmp_path, FACTORS, "data.target=titre",
                            f"data.path={lab(tmp_path, P='pZ')}")
    assert message == (f"data file '{tmp_path / 'lab.csv'}': column 'P' has 'pZ' at data row 3, "
                       "expected one of ['pA', 'pB', 'pC']")


def test_a_candidate_part_outside_the_space_is_one_line(tmp_path):
    listed = write(tmp_path, "buildable.csv", {"P": ["pA", "pQ"], "G": ["x", "x"]})
    message = refused_plate(tmp_path, FACTORS, f"space.candidates={listed}", "data.target=titre",
                            f"data.path={lab(tmp_path)}")
    assert message == (f"space.candidates={listed}: column 'P' has 'pQ' at data row 2, "
                       "expected one of ['pA', 'pB', 'pC']")


def test_a_set_larger_than_its_bound_is_one_line(tmp_path):
    built = write(tmp_path, "sets.csv", {"a": [1, 0, 1], "b": [0, 1, 1], "c": [0, 0, 1],
                                         "titre": [1.0, 2, 3]})
    message = refused_plate(tmp_path, SETS, "data.target=titre", f"data.path={built}")
    assert message == (f"data file '{built}': set 'kd' has 3 genes on at data row 3, expected "
                       "0 to 2 (space.sets.kd)")
    listed = write(tmp_path, "buildable.csv", {"a": [1, 1], "b": [1, 1], "c": [0, 1]})
    message = refused_plate(tmp_path, SETS, f"space.candidates={listed}", "data.target=titre",
                            f"data.path={built}")
    assert message.startswith(f"space.candidates={listed}: set 'kd' has 3 genes on at data row 2")


def test_a_candidate_column_the_space_lacks_is_one_line(tmp_path):
    listed = write(tmp_path, "buildable.csv", {"P": ["pA"], "G": ["x"], "RBS": ["r1"]})
    message = refused_plate(tmp_path, FACTORS, f"space.candidates={listed}", "data.target=titre",
                            f"data.path={lab(tmp_path)}")
    assert message == (f"space.candidates={listed}: column 'RBS' is not a column of the space "
                       "(expected exactly ['P', 'G'])")


MIXED = {"G": ["x", "y", "3", "z"], "P": ["a", "b", "a", "b"], "titre": [1.0, 2, 3, 4]}
TEXT_TARGET = {"G": ["x", "y", "x", "z"], "P": ["a", "b", "a", "b"],
               "titre": ["1", "2", "n.d.", "4"]}


def test_a_landscape_design_column_of_mixed_types_is_one_line(tmp_path):
    table = write(tmp_path, "measured.csv", MIXED)
    expected = (f"data file '{table}': design column 'G' mixes numbers and text ('3' at data "
                "row 3, 'x' at data row 1); expected part names or numbers, not both")
    assert refused_campaign(tmp_path, f"space.landscape={table}",
                            "space.target=titre") == expected
    assert refused_plate(tmp_path, f"space.landscape={table}", "space.target=titre",
                         f"data.path={lab(tmp_path)}") == expected


def test_a_landscape_target_that_is_not_numeric_is_one_line(tmp_path):
    table = write(tmp_path, "measured.csv", TEXT_TARGET)
    message = refused_campaign(tmp_path, f"space.landscape={table}", "space.target=titre")
    assert message.startswith(f"data file '{table}': column 'titre' has 'n.d.' at data row 3, "
                              "expected a finite measured")


def test_space_target_missing_or_unknown_is_one_line(tmp_path):
    table = write(tmp_path, "measured.csv", {**TEXT_TARGET, "titre": [1.0, 2, 3, 4]})
    message = refused_campaign(tmp_path, f"space.landscape={table}")
    assert message.startswith("space.target: a measured landscape")
    assert "needs the column that holds the response" in message
    message = refused_campaign(tmp_path, f"space.landscape={table}", "space.target=yield")
    assert message == (f"space.target=yield: data file '{table}' has no such column (it has "
                       "['G', 'P', 'titre'])")


def test_a_library_without_a_target_or_with_two_is_one_line(tmp_path):
    message = refused_plate(tmp_path, FACTORS, f"data.path={lab(tmp_path)}")
    assert message.startswith("data.target: a library of parts")
    message = refused_plate(tmp_path, FACTORS, "data.target=yield", f"data.path={lab(tmp_path)}")
    assert message == (f"data file '{tmp_path / 'lab.csv'}': lacks column(s) ['yield'] (expected "
                       "built.csv's format: the design columns and the measured yield)")
    message = refused_plate(tmp_path, FACTORS, "data.target=titre", "space.target=yield",
                            f"data.path={lab(tmp_path)}")
    assert message.startswith("data.target=titre and space.target=yield name different columns")
