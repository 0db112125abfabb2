"""A design space where no design reaches a steady state: one line that says so, not a hint to
raise pool.n, which cannot help."""

from __future__ import annotations

import pytest

from kinsynth.campaign import run_campaign
from kinsynth.core.errors import KinsynthError

# k_in = 1 flows in; the outflow saturates at vmax = 2 x fold: below fold 0.5 no steady state
SATURATED = """model sat()
  J_in: -> S; k_in;
  J_out: S -> ; vmax * S / (km + S);
  k_in = 1; vmax = 2; km = 1; S = 1;
end
"""


def test_a_space_without_a_steady_state_is_said_without_raise_pool_n(compose_dbtl, tmp_path):
    model, ranges = tmp_path / "sat.ant", tmp_path / "ranges.yaml"
    model.write_text(SATURATED)
    ranges.write_text("flux: J_out\nparameters:\n  - {id: vmax, low: 0.1, high: 0.4}\n")
    cfg = compose_dbtl("strategy=random", "initial_designs=5", "cycles=1", "pool.n=200",
                       f"space.model_file={model}", f"space.ranges={ranges}")
    with pytest.raises(KinsynthError) as info:
        run_campaign(cfg, tmp_path / "run")
    message = str(info.value)
    assert "none of the 200 designs" in message and "no valid design" in message
    assert "raise pool.n" not in message and "\n" not in message
