"""The end time of a time course is checked when the model is loaded, before any simulation."""

from __future__ import annotations

import pytest

from kinsynth.simulate import SimulationError, load_model


@pytest.mark.parametrize("time", [float("inf"), float("-inf"), float("nan"), 0.0, -1.0])
def test_an_end_time_that_is_not_a_finite_positive_number_is_refused_at_load(tmp_path, time):
    model = tmp_path / "model.ant"
    model.write_text("model m()\n  J: -> S; k; k = 1; S = 1;\nend\n")
    ranges = tmp_path / "ranges.yaml"
    ranges.write_text("output: S\nparameters:\n  - {id: k, low: 0.5, high: 2}\n")
    with pytest.raises(SimulationError, match=r"finite number > 0") as info:
        load_model(model, ranges, objective="time_course", time=time)
    assert "\n" not in str(info.value)


def test_a_finite_end_time_loads(tmp_path):
    model = tmp_path / "model.ant"
    model.write_text("model m()\n  J: -> S; k; k = 1; S = 1;\nend\n")
    ranges = tmp_path / "ranges.yaml"
    ranges.write_text("output: S\nparameters:\n  - {id: k, low: 0.5, high: 2}\n")
    assert load_model(model, ranges, objective="time_course", time=2.5).time == 2.5
