"""Models on mixed tables: one-hot inputs, softmax heads in the ELBO, part names out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from kinsynth.core.errors import KinsynthError
from kinsynth.data import KineticDataModule
from kinsynth.models import LatentVariableModel, PPCAModel
from kinsynth.models.elbo import reconstruction_nll

LEVELS = {"promoter": ["pCYC1", "pENO2", "pTEF1"], "gene": ["A", "B"]}


def mixed_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """pTEF1 is rare (10 %) and comes with gene A; the titre follows the promoter."""
    rng = np.random.default_rng(seed)
    promoter = rng.choice(LEVELS["promoter"], size=n, p=[0.6, 0.3, 0.1])
    gene = np.where(promoter == "pTEF1", "A", rng.choice(["A", "B"], size=n))
    strength = rng.uniform(0.5, 2.0, size=n)
    titre = strength * np.where(promoter == "pTEF1", 3.0, 1.0) + rng.normal(0, 0.05, n)
    return pd.DataFrame({"promoter": promoter, "gene": gene, "strength": strength, "titre": titre})


def test_cross_entropy_enters_the_reconstruction_term() -> None:
    x = torch.tensor([[0.0, 1.0, 0.0, 0.5], [1.0, 0.0, 0.0, -1.0]])
    out = torch.tensor([[0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, -1.0]])
    got = reconstruction_nll(x, out, None, categorical=[(0, 3)])
    ce = -torch.log_softmax(out[:, :3], dim=1)[torch.arange(2), x[:, :3].argmax(dim=1)]
    expected = ce + (x[:, 3] - out[:, 3]).pow(2)
    torch.testing.assert_close(got, expected)
    # without blocks the numeric term is exactly the one every numeric model trains on
    torch.testing.assert_close(reconstruction_nll(x, out), (x - out).pow(2).sum(dim=1))


def _trained(model: LatentVariableModel | PPCAModel, dm: KineticDataModule,
             epochs: int = 150) -> None:
    torch.manual_seed(0)
    model.attach_data(dm.transform, dm.train_frame["titre"].to_numpy())
    if isinstance(model, PPCAModel):
        data, condition = model.split_batch(dm.train_x, dm.train_y)
        model.fit_arrays(model._stack(data, condition).double().numpy())
        return
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        for x, y in dm._next_epoch_batches():
            data, condition = model.split_batch(x, y)
            loss = model.elbo(data, condition, beta=1.0).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


@pytest.fixture(scope="module")
def datamodule() -> KineticDataModule:
    dm = KineticDataModule(target="titre", frame=mixed_frame(), transform="standard",
                           batch_size=64, split=(0.8, 0.1, 0.1))
    dm.setup()
    return dm


def test_cvae_samples_part_names_with_the_training_frequencies(datamodule) -> None:
    model = LatentVariableModel(datamodule.features, "titre", latent_dim=2, hidden=(32,),
                                conditional=True, levels=datamodule.levels)
    assert model.data_width == 3 + 2 + 1 and model.categorical_blocks == [(0, 3), (3, 5)]
    _trained(model, datamodule)
    synth = model.sample(2000, seed=1)
    assert list(synth.columns) == ["promoter", "gene", "strength", "titre"]
    assert set(synth["promoter"]) <= set(LEVELS["promoter"])
    assert pd.api.types.is_string_dtype(synth["promoter"])
    real = datamodule.train_frame["promoter"].value_counts(normalize=True)
    drawn = synth["promoter"].value_counts(normalize=True)
    assert (real - drawn.reindex(real.index, fill_value=0)).abs().max() < 0.08
    # conditioned on a high titre, the rare promoter that makes it dominates
    high = model.sample(500, target=5.0, seed=2)
    assert (high["promoter"] == "pTEF1").mean() > 0.6
    assert model.sample(300, seed=3).equals(model.sample(300, seed=3))


def test_reconstruct_and_encode_take_part_names(datamodule) -> None:
    model = LatentVariableModel(datamodule.features, "titre", latent_dim=2, hidden=(32,),
                                conditional=True, levels=datamodule.levels)
    _trained(model, datamodule)
    test = datamodule.test_frame
    recon = model.reconstruct(test)
    # better than always answering the commonest level (60 %)
    assert (recon["promoter"] == test["promoter"]).mean() > 0.75
    mu, _ = model.encode(test)
    assert mu.shape == (len(test), 2) and np.isfinite(mu.to_numpy()).all()
    bad = test.copy()
    bad.iloc[0, 0] = "pGAL1"
    with pytest.raises(KinsynthError, match="column 'promoter': row .* 'pGAL1', a level the "
                                            "model does not know; known levels: pCYC1"):
        model.reconstruct(bad)


def test_ppca_baseline_gives_the_largest_coordinate_level(datamodule) -> None:
    model = PPCAModel(datamodule.features, "titre", latent_dim=2, conditional=True,
                      levels=datamodule.levels)
    _trained(model, datamodule)
    synth = model.sample(2000, seed=1)
    assert set(synth["gene"]) == {"A", "B"}
    share = (synth["promoter"] == "pCYC1").mean()
    assert 0.4 < share < 0.8  # the commonest level stays the commonest


def test_levels_must_belong_to_features() -> None:
    with pytest.raises(KinsynthError, match="model levels"):
        LatentVariableModel(["a"], "y", latent_dim=1, levels={"b": ["x", "y"]})
