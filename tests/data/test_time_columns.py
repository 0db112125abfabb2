"""A date or time column is no number: refused in one line, as a bool column is."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from support import make_toy_table

from kinsynth.core.errors import KinsynthError
from kinsynth.data.io import read_table, table_from_frame

TIMES = {
    "datetime": pd.date_range("2024-01-01", periods=600, freq="h"),
    "datetime with a timezone": pd.date_range("2024-01-01", periods=600, freq="h", tz="UTC"),
    "time span": pd.to_timedelta(range(600), unit="s"),
}


@pytest.mark.parametrize("kind", list(TIMES))
def test_a_time_column_in_a_frame_is_one_line(kind: str):
    frame = make_toy_table()
    frame["measured_at"] = TIMES[kind]
    with pytest.raises(KinsynthError, match=r"^data frame: column 'measured_at' holds dates or "
                                            r"times \(.+\), expected numbers$"):
        table_from_frame(frame)


def test_a_time_column_in_a_parquet_file_is_one_line(tmp_path: Path):
    pytest.importorskip("pyarrow")
    frame = make_toy_table()
    frame["measured_at"] = TIMES["datetime"]
    path = tmp_path / "table.parquet"
    frame.to_parquet(path)
    with pytest.raises(KinsynthError, match="column 'measured_at' holds dates or times"):
        read_table(path)
