"""A cell beyond float32's range is named as such (column and row), not reported as infinite."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kinsynth.core.errors import KinsynthError
from kinsynth.data.io import read_table


def test_a_cell_out_of_float32_range_names_column_and_row_without_a_warning(tmp_path):
    path = tmp_path / "wide_range.csv"
    path.write_text("a,b,Product_I\n1,2,3\n4,1e308,5\n6,-2e39,8\n7,1,9\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KinsynthError) as error:
            read_table(path, dtype=np.float32)
    message = str(error.value)
    assert "\n" not in message and str(path) in message
    assert "column 'b' has 1e+308 at data row 2, out of float32 range" in message
    assert "(2 such value(s) in total)" in message and "infinite" not in message
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]
    table = read_table(path)  # float64 holds it
    assert table.frame["b"].iloc[1] == 1e308


def test_an_index_column_names_the_row_too(tmp_path):
    path = tmp_path / "indexed.csv"
    path.write_text(",a,b,Product_I\n10,1,2,3\n11,4,5,6\n12,7,3.5e38,9\n")
    with pytest.raises(KinsynthError, match=r"'b' has 3.5e\+38 at data row 3, index 12, out of "
                                            r"float32 range"):
        read_table(path, dtype=np.float32)
    assert read_table(path).frame.loc[12, "b"] == 3.5e38  # float64 holds it
