"""Models trained as one stack: each model's arithmetic is its own, up to float rounding."""

from __future__ import annotations

import functools

import pytest
import torch

from kinsynth.models.elbo import elbo_loss, kl_to_standard_normal
from kinsynth.models.latent import LatentVariableModel
from kinsynth.models.stacked import StackedLatentModels, stack_problem

FEATURES = ["a", "b", "c", "d"]


def _model(latent: int, seed: int, **settings: object) -> LatentVariableModel:
    torch.manual_seed(seed)
    options: dict[str, object] = dict(
        hidden=[5], conditional=True, joint=False, likelihood="learned",
        output_activation="relu", free_bits=0.05,
        optimizer=functools.partial(torch.optim.Adam, lr=1e-2, weight_decay=1e-2, fused=True))
    options.update(settings)
    return LatentVariableModel(FEATURES, "y", latent_dim=latent, **options)  # type: ignore[arg-type]


def _flat(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def test_each_stacked_model_takes_the_steps_it_takes_alone() -> None:
    """Three Adam steps of two models of latent sizes 2 and 3, alone and stacked, with the
    same noise and different batches: the same weights to float rounding, the same figures."""
    models = [_model(2, seed=0), _model(3, seed=1)]
    stack = StackedLatentModels([_model(2, seed=0), _model(3, seed=1)])
    for m, model in enumerate(models):
        assert torch.equal(stack.member_parameters(m, stack.named_stacked()), _flat(model))
    alone = [model.build_optimizer(model.parameters()) for model in models]
    together = models[0].build_optimizer(stack.parameters())
    batches = torch.Generator().manual_seed(7)
    for step in range(3):
        x = torch.rand(2, 8, 4, generator=batches)
        y = torch.rand(2, 8, 1, generator=batches)
        noise = torch.zeros(2, 8, 3)
        losses = []
        for m, (model, optimizer) in enumerate(zip(models, alone, strict=True)):
            torch.manual_seed(100 * step + m)  # the noise model.elbo draws
            terms = model.elbo(*model.split_batch(x[m], y[m]), beta=1.0)
            losses.append(terms.loss.detach())
            optimizer.zero_grad()
            terms.loss.backward()
            optimizer.step()
            k = model.latent_dim
            noise[m, :, :k] = torch.randn(8, k, generator=torch.Generator().manual_seed(
                100 * step + m))
        terms = stack.elbo(*stack.split_batch(x, y), noise, beta=1.0)
        torch.testing.assert_close(terms.loss.detach(), torch.stack(losses))
        together.zero_grad()
        terms.loss.sum().backward()
        together.step()
    for m, model in enumerate(models):
        torch.testing.assert_close(stack.member_parameters(m, stack.named_stacked()),
                                   _flat(model), atol=1e-6, rtol=1e-5)


def test_the_latent_dimensions_a_model_lacks_stay_exactly_zero() -> None:
    stack = StackedLatentModels([_model(2, seed=0), _model(4, seed=1)])
    optimizer = torch.optim.Adam(stack.parameters(), lr=0.1, weight_decay=0.1)
    for _ in range(5):
        x, y = torch.rand(2, 16, 4), torch.rand(2, 16, 1)
        terms = stack.elbo(*stack.split_batch(x, y), torch.randn(2, 16, 4), beta=1.0)
        optimizer.zero_grad()
        terms.loss.sum().backward()
        optimizer.step()
    params = stack.named_stacked()
    head = params["encoder.2.weight"][0]  # model 0: mu rows 0-1, log-variance rows 4-5
    assert torch.count_nonzero(head[[2, 3, 6, 7]]) == 0 and torch.count_nonzero(head[[0, 1]]) > 0
    assert torch.count_nonzero(params["decoder.0.weight"][0][:, [2, 3]]) == 0


def test_the_free_bits_floor_charges_no_model_for_a_dimension_it_lacks() -> None:
    kl = kl_to_standard_normal(torch.randn(2, 6, 3), torch.randn(2, 6, 3))
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    kl = kl * mask[:, None, :]
    recon = torch.rand(2, 6)
    stacked = elbo_loss(recon, kl, 1.0, free_bits=0.5, latent_mask=mask)
    alone = elbo_loss(recon[0], kl[0, :, :2], 1.0, free_bits=0.5)
    torch.testing.assert_close(stacked.loss[0], alone.loss)
    torch.testing.assert_close(stacked.kl[0], alone.kl)


@pytest.mark.parametrize("other,reason", [
    ({"hidden": [6]}, "differ in more than their latent size"),
    ({"prior": "aggregate"}, "prior=aggregate"),
    ({"lr_schedule": "cosine"}, "lr_schedule=cosine"),
])
def test_models_that_cannot_share_a_stack_are_named(other: dict[str, object],
                                                     reason: str) -> None:
    problem = stack_problem([_model(2, seed=0), _model(3, seed=0, **other)])
    assert problem is not None and reason in problem
    with pytest.raises(ValueError, match="cannot stack"):
        StackedLatentModels([_model(2, seed=0), _model(3, seed=0, **other)])
    assert stack_problem([_model(2, seed=0), _model(5, seed=3)]) is None
