"""``kinsynth.core``: the one check of a count and the one way every command sets its threads."""

from __future__ import annotations

import pytest
import torch
from threadpoolctl import threadpool_info

from kinsynth.core.counts import positive_int
from kinsynth.core.errors import KinsynthError
from kinsynth.core.threads import available_cores, use_threads


def _pool_threads() -> set[int]:
    """Thread counts of the loaded BLAS and OpenMP pools (numpy's, sklearn's, torch's)."""
    return {pool["num_threads"] for pool in threadpool_info()}


def test_use_threads_sets_torch_and_the_blas_and_openmp_pools_alike() -> None:
    try:
        assert use_threads(2) == 2
        assert torch.get_num_threads() == 2 and _pool_threads() == {2}
    finally:
        use_threads(1)
    assert torch.get_num_threads() == 1 and _pool_threads() == {1}


def test_threads_null_means_every_core_and_a_bad_value_is_one_line() -> None:
    try:
        assert use_threads(None) == available_cores() == torch.get_num_threads()
    finally:
        use_threads(1)
    for bad in (0, -1, "abc", 1.5, True):
        with pytest.raises(KinsynthError, match=r"^threads=.*: expected a positive integer$"):
            use_threads(bad)
    assert torch.get_num_threads() == 1


def test_available_cores_and_positive_int() -> None:
    assert available_cores() >= 1
    assert positive_int("n", "3") == 3
    with pytest.raises(KinsynthError, match="n=5: expected a positive integer at most 4"):
        positive_int("n", 5, maximum=4)


def test_whole_number_is_every_commands_count_check() -> None:
    """The one check behind generate.py's n, a campaign's sizes, vanlent's options and the
    simulator's n: 3 and 3.0 pass; 3.5, abc and True do not; the minimum is in the line."""
    from kinsynth.core.counts import whole_number
    from kinsynth.simulate.cli import integer
    from kinsynth.simulate.errors import SimulationError

    assert whole_number("n", 3) == whole_number("n", 3.0) == whole_number("n", "3") == 3
    assert whole_number("cycles", 0, minimum=0) == 0
    for bad in (3.5, "abc", True, None):
        with pytest.raises(KinsynthError, match=r"^n=.*: expected a positive integer$"):
            whole_number("n", bad)
    with pytest.raises(KinsynthError, match=r"^cv_folds=1: expected an integer >= 2$"):
        whole_number("cv_folds", 1, minimum=2)
    with pytest.raises(SimulationError, match=r"^n='x': expected an integer >= 0$"):
        integer("n", "x", 0)
