"""The sweep report heads what it holds: Table 2 of the thesis only for a thesis sweep, the
sweep's shared settings, a campaign sweep and a missing metrics.json said as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kinsynth.core.errors import KinsynthError
from kinsynth.evaluate.report import build_report
from kinsynth.runs.contract import read_marker

METRICS = {"recon_mse": 0.05, "kl": 0.5, "c2st_auc": 0.9, "std_ratio_min": 0.5,
           "std_ratio_max": 1.5}


def _job(root: Path, num: int, experiment: str, overrides: list[str],
         marker: tuple[str, dict] = ("metrics.json", METRICS)) -> None:
    job = root / f"{num}_latent_dim-{num + 2}"
    (job / ".hydra").mkdir(parents=True)
    config = {"seed": 0, "latent_dim": num + 2, "data": {"path": None},
              "model": {"_target_": "kinsynth.models.PPCAModel"}}
    hydra = {"hydra": {"runtime": {"output_dir": str(job),
                                   "choices": {"model": "ppca", "experiment": experiment}}}}
    (job / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (job / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump(hydra))
    (job / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (job / marker[0]).write_text(json.dumps(marker[1]))


def _sweep(tmp_path: Path, experiment: str) -> Path:
    root = tmp_path / "sweep"
    for num in range(2):
        _job(root, num, experiment, ["model=ppca", f"latent_dim={num + 2}",
                                     "trainer.max_epochs=40"])
    return root


def test_a_sweep_outside_the_thesis_setting_is_not_headed_thesis_table_2(tmp_path):
    root = _sweep(tmp_path, "default")
    build_report([root], draw=False)
    text = (root / "report.md").read_text()
    assert "Thesis Table 2" not in text and "## Reconstruction MSE and KL" in text
    assert "thesis (latent 11)" not in text.split("## Sample quality")[0]
    assert "Shared settings (every job): `model=ppca`, `trainer.max_epochs=40`" in text


def test_a_thesis_sweep_keeps_its_heading_beside_the_published_values(tmp_path):
    root = _sweep(tmp_path, "thesis")
    build_report([root], draw=False)
    text = (root / "report.md").read_text()
    assert "## Thesis Table 2: reconstruction MSE and KL" in text
    assert "thesis (latent 11)" in text


def test_a_campaign_sweep_is_named_as_one_not_as_invalid_json(tmp_path):
    root = tmp_path / "dbtl"
    _job(root, 0, "default", ["strategy=random"], ("campaign.json", {"strategy": "random"}))
    with pytest.raises(KinsynthError) as info:
        build_report([root], draw=False)
    assert "a campaign (campaign.json)" in str(info.value) and "dbtl_report.py" in str(info.value)
    assert "valid JSON" not in str(info.value)


def test_a_missing_marker_is_said_missing(tmp_path):
    with pytest.raises(KinsynthError, match=r"metrics.json': missing$"):
        read_marker(tmp_path / "metrics.json")
