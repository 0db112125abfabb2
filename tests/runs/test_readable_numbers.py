"""Names show Optuna's sampled numbers to 4 significant digits, not 16."""

from __future__ import annotations

import pytest

from kinsynth.runs.names import job_dir_name, readable_number


def test_an_optuna_job_folder_shows_short_numbers():
    name = job_dir_name("latent_dim=9,model.beta=0.2583472849201745,"
                        "optimizer.lr=0.00012345678901234567", 3)
    assert name == "3_latent_dim-9_model.beta-0.2583_optimizer.lr-0.0001235"


@pytest.mark.parametrize(("value", "shown"), [
    ("0.2583472849201745", "0.2583"), ("-3.14159265358979", "-3.142"),
    ("1e-05", "1e-05"), ("0.000123", "0.000123"), ("0.5", "0.5"),
    ("12345678901", "12345678901"), ("quantile", "quantile"), ("[64,64]", "[64,64]"),
])
def test_only_long_decimals_are_shortened(value, shown):
    assert readable_number(value) == shown
