"""A path Hydra's grammar cannot read gets one line, with the quoting that makes it readable."""

from __future__ import annotations

from support import hydra_parses

from kinsynth.cli.guard import path_override_problem


def test_a_path_hydra_cannot_parse_gets_one_line_saying_how_to_quote_it() -> None:
    path = "outputs/train/multirun/t/14_experiment=thesis,latent_dim=3"
    line = path_override_problem(["n=10", f"run={path}"])
    assert line is not None and "\n" not in line and line.startswith(f"run={path}: ")
    quoted = line.rsplit("'", 2)[1]  # the suggestion, as the shell hands it to Hydra
    assert quoted == f'run="{path}"' and hydra_parses(quoted)
    assert path_override_problem(["n=10", "run=outputs/train/runs/2026-12-02_00-25-17"]) is None
