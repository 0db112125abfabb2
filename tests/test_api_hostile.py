"""The notebook API refuses a bad argument in one ``KinsynthError`` line, before any work."""

from __future__ import annotations

import pandas as pd
import pytest
from support import REPO_ROOT

import kinsynth
from kinsynth.core.errors import KinsynthError

BUILT = REPO_ROOT / "tests" / "campaign" / "fixtures" / "seeded_random_built.csv"


@pytest.fixture(scope="module")
def built() -> pd.DataFrame:
    return pd.read_csv(BUILT)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: kinsynth.fit(b, model="bogus"),
         r"model='bogus': expected one of bcvae, cppca, cvae, ppca, vae"),
        (lambda b: kinsynth.fit(b, model=None), r"model=None: expected one of"),
        (lambda b: kinsynth.fit(b, logger="bogus"), r"logger='bogus': expected one of csv"),
        (lambda b: kinsynth.propose(b, strategy="bogus"), r"strategy='bogus': expected one of"),
        (lambda b: kinsynth.propose(b, strategy=None), r"strategy=None: expected one of"),
        (lambda b: kinsynth.propose(b, space=["levels"]),
         r"space=\['levels'\]: expected a mapping"),
        (lambda b: kinsynth.propose(b, space={"bogus": 1}),
         r"space.bogus: not a setting of dbtl.yaml"),
        (lambda b: kinsynth.propose(b, space={"levels": "abc"}),
         r"space.levels='abc': Invalid value assigned: str is not a ListConfig"),
        (lambda b: kinsynth.propose(b, n=5, strategy="recommender", pool_size="abc"),
         r"strategy.pool_size: Value 'abc'"),
        (lambda b: kinsynth.propose(b.to_numpy()),
         r"built: expected a pandas DataFrame .* got ndarray"),
    ],
)
def test_a_bad_argument_is_one_line(built: pd.DataFrame, call, message: str) -> None:
    with pytest.raises(KinsynthError, match=message) as error:
        call(built)
    assert "\n" not in str(error.value)
