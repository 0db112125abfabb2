"""A lab's space of parts: exact sizes, uniform draws, exclusions, candidate lists, snapping, and
one-hot features that do not care what a part is called."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chisquare, spearmanr

from kinsynth.campaign.part_config import space_from_config
from kinsynth.campaign.space import design_keys
from kinsynth.campaign.strategies import make_strategy

#: the G8H x CPR library's slots (Petersen et al. 2024): 8 x 4 x 4 x 10 designs
G8H_SLOTS = {"G8H": [f"G8H_{i}" for i in range(8)], "pG8H": [f"pG_{i}" for i in range(4)],
             "pCPR": [f"pC_{i}" for i in range(4)], "CPR": [f"CPR_{i}" for i in range(10)]}
GENES = [f"g{i:02d}" for i in range(16)]


def small_space(**extra):
    """3 promoters x a set of 3 genes with 1 or 2 on (6 patterns): 18 designs before exclusions."""
    return space_from_config({"factors": {"P": ["pA", "pB", "pC"]},
                              "sets": {"kd": {"genes": ["a", "b", "c"], "min": 1, "max": 2}},
                              **extra})


def test_the_g8h_slots_enumerate_exactly_1280_distinct_designs():
    space = space_from_config({"factors": G8H_SLOTS})
    designs = space.enumerate()
    assert space.library_size == 1280 == len(designs)
    assert len(set(design_keys(designs, space.columns))) == 1280
    assert list(designs.columns) == ["G8H", "pG8H", "pCPR", "CPR"]
    assert designs["CPR"].value_counts().tolist() == [128] * 10  # every part equally often


def test_every_set_of_at_most_4_of_16_genes_is_2517_designs():
    assert sum(math.comb(16, k) for k in range(5)) == 2517
    space = space_from_config({"sets": {"kd": {"genes": GENES, "min": 0, "max": 4}}})
    designs = space.enumerate()
    assert space.library_size == 2517 == len(designs)
    on = designs[GENES].to_numpy()
    assert set(np.unique(on)) == {0, 1}
    assert np.bincount(on.sum(axis=1)).tolist() == [1, 16, 120, 560, 1820]
    assert len({tuple(r) for r in on}) == 2517
    at_least_one = space_from_config({"sets": {"kd": {"genes": GENES, "min": 1, "max": 4}}})
    assert at_least_one.library_size == 2516


def test_a_sample_is_uniform_over_the_allowed_designs_and_never_excluded():
    rule = {"P": "pA", "a": 1, "b": 1}  # pA with a and b knocked down: 1 of the 18 designs
    space = small_space(exclude=[rule])
    allowed = space.enumerate()
    assert len(allowed) == 17 == space.library_size
    keys = design_keys(allowed, space.columns)
    draws = space.sample(17_000, np.random.default_rng(5))
    assert len(draws) == 17_000
    counts = pd.Series(design_keys(draws, space.columns)).value_counts()
    assert set(counts.index) == set(keys)  # every allowed design drawn, the excluded one never
    observed = counts.reindex(keys).to_numpy()
    assert chisquare(observed).pvalue > 1e-3  # uniform: 1,000 each expected
    # a non-uniform draw fails the same check: the set sizes weighted alike (1 on vs 2 on)
    skewed = np.where(allowed[["a", "b", "c"]].sum(axis=1) == 1, 1300, 700)[: len(observed)]
    assert chisquare(skewed * 17_000 / skewed.sum()).pvalue < 1e-3


def test_exclusions_remove_exactly_the_matching_designs_from_the_enumeration():
    space = space_from_config({"factors": G8H_SLOTS,
                               "exclude": [{"G8H": "G8H_0", "CPR": ["CPR_1", "CPR_2"]},
                                           {"pG8H": "pG_3", "pCPR": "pC_3"}]})
    designs = space.enumerate()
    # 4 x 4 excluded per (G8H_0, CPR_1|CPR_2): 32; 8 x 10 per (pG_3, pC_3): 80; both: 2
    assert len(designs) == 1280 - 32 - 80 + 2 == space.library_size
    hit = (designs["G8H"] == "G8H_0") & designs["CPR"].isin(["CPR_1", "CPR_2"])
    assert not hit.any() and not ((designs["pG8H"] == "pG_3") & (designs["pCPR"] == "pC_3")).any()
    drawn = space.sample(5000, np.random.default_rng(0))
    assert not ((drawn["G8H"] == "G8H_0") & drawn["CPR"].isin(["CPR_1", "CPR_2"])).any()


def test_a_candidate_list_restricts_enumeration_sampling_and_snapping(tmp_path):
    listed = pd.DataFrame({"P": ["pA", "pB", "pB", "pC"], "a": [1, 0, 0, 1],
                           "b": [0, 1, 1, 1], "c": [0, 0, 0, 0]})  # one design listed twice
    listed.to_csv(tmp_path / "buildable.csv", index=False)
    space = small_space(candidates=str(tmp_path / "buildable.csv"))
    assert space.library_size == 3
    keys = set(design_keys(listed, space.columns))
    assert set(design_keys(space.enumerate(), space.columns)) == keys
    assert set(design_keys(space.sample(300, np.random.default_rng(1)), space.columns)) == keys
    other = pd.DataFrame({"P": ["pA", "pC"], "a": [0, 1], "b": [1, 1], "c": [0, 0]})
    snapped = space.snap(other)  # (pA, b) is in the product but not in the list
    assert design_keys(snapped, space.columns) == [("pC", 1.0, 1.0, 0.0)]


def test_snap_drops_every_row_that_cannot_be_built_and_keeps_the_rest():
    space = small_space(exclude=[{"P": "pC", "c": 1}])
    rows = pd.DataFrame({
        "P": [" pA", "pZ", "pB", "pB", "pC", "pB", "pA"],
        "a": [1, 1, 0, 1, 0, 1, "x"],
        "b": [0, 0, 0, 1, 0, 1, 0],
        "c": [0, 0, 0, 1, 1, 0, 0],
    })
    # kept: pA (stripped) with a; pB with a and b.  Dropped: an unknown part, no gene on (min 1),
    # three genes on (max 2), an excluded design (pC with c), a gene cell that is not a number
    snapped = space.snap(rows)
    assert snapped.index.tolist() == [0, 5]
    assert design_keys(snapped, space.columns) == [("pA", 1.0, 0.0, 0.0), ("pB", 1.0, 1.0, 0.0)]
    assert snapped["a"].dtype == np.int64


def _relabel(frame: pd.DataFrame, mapping: dict[str, dict[str, str]]) -> pd.DataFrame:
    out = frame.copy()
    for column, names in mapping.items():
        out[column] = out[column].map(names)
    return out


def test_renaming_a_slots_parts_gives_the_same_recommender_proposals():
    """The same biology under other names (each slot's names permuted): one-hot features see the
    same designs, so the recommender proposes the same designs under their new names."""
    slots = {"G": ["g1", "g2", "g3", "g4"], "P": ["p1", "p2", "p3"],
             "C": [f"c{i}" for i in range(5)]}
    space = space_from_config({"factors": slots})
    renamed = {column: dict(zip(names, names[1:] + names[:1], strict=True))  # a cyclic shift
               for column, names in slots.items()}
    back = {column: {new: old for old, new in m.items()} for column, m in renamed.items()}
    rng = np.random.default_rng(11)
    effect = {name: rng.normal() for names in slots.values() for name in names}
    built = space.enumerate().sample(20, random_state=3).reset_index(drop=True)
    built["titre"] = [sum(effect[v] for v in row) + 0.01 * rng.normal()
                      for row in built[list(slots)].itertuples(index=False)]
    built["valid"] = True

    def proposals(frame: pd.DataFrame) -> pd.DataFrame:
        # a pool far larger than the 60 designs: every unbuilt design is scored
        strategy = make_strategy("recommender", space, "titre", 0, {"pool_size": 4000})
        return strategy.propose(frame, 8, np.random.default_rng(2))

    plain = proposals(built)
    other = _relabel(proposals(_relabel(built, renamed)), back)
    assert set(design_keys(plain, space.columns)) == set(design_keys(other, space.columns))
    strategy = make_strategy("recommender", space, "titre", 0, {"pool_size": 4000})
    strategy.propose(built, 8, np.random.default_rng(2))
    twin = make_strategy("recommender", space, "titre", 0, {"pool_size": 4000})
    twin.propose(_relabel(built, renamed), 8, np.random.default_rng(2))
    everything = space.enumerate()
    # the trees break ties between features that split the 20 rows alike by the features'
    # order, so the scores agree up to those ties: the ranking of all 60 designs barely moves
    rho = spearmanr(strategy.score(everything), twin.score(_relabel(everything, renamed)))
    assert rho.statistic > 0.98


def test_one_hot_features_of_renamed_parts_are_the_same_columns_permuted():
    space = space_from_config({"factors": {"G": ["x", "y", "z"], "P": {"weak": 0.2, "strong": 2}}})
    frame = pd.DataFrame(list(itertools.product(["x", "y", "z"], ["weak", "strong"])),
                         columns=["G", "P"])
    features = space.features(frame)
    assert space.feature_names() == ["G=x", "G=y", "G=z", "P=weak", "P=strong", "P:descriptor"]
    assert features.shape == (6, 6)
    np.testing.assert_array_equal(features[:, :5].sum(axis=1), [2] * 6)  # one part per slot
    np.testing.assert_allclose(features[:, 5], [0.2, 2, 0.2, 2, 0.2, 2])
    scaled = space.scaled_features(frame)
    # one slot changed: distance 1, whatever the parts are called
    assert np.linalg.norm(scaled[0] - scaled[2]) == pytest.approx(1.0)
    assert np.linalg.norm(scaled[0] - scaled[1]) == pytest.approx(1.0)


def test_numeric_levels_snap_to_the_nearest_level_in_log_space():
    """Fold changes: 0.6 is nearer 1 than 0.25 (a 1.7x step against 2.4x), though not in
    linear terms; 2.4 is nearer 4 (1.7x) than 1 (2.4x)."""
    from kinsynth.campaign.parts import PartSpace

    space = PartSpace(("a",), numbers={"a": (0.25, 1.0, 4.0)})
    snapped = space.snap(pd.DataFrame({"a": [0.6, 2.4, 0.25, 3.9]}))
    assert snapped["a"].tolist() == [1.0, 4.0, 0.25, 4.0]
    assert space.codes(pd.DataFrame({"a": [0.6, 2.4]})).ravel().tolist() == [1, 2]
