import math

import pytest
import torch

from kinsynth.models.elbo import (
    elbo_loss,
    kl_full_covariance,
    kl_to_standard_normal,
    kl_weight,
    reconstruction_nll,
)


def test_kl_is_zero_at_the_prior_and_matches_closed_form():
    mu = torch.zeros(4, 3)
    assert torch.allclose(kl_to_standard_normal(mu, torch.zeros(4, 3)), torch.zeros(4, 3))
    kl = kl_to_standard_normal(torch.tensor([[2.0]]), torch.tensor([[math.log(0.5)]]))
    expected = 0.5 * (4.0 + 0.5 - 1.0 - math.log(0.5))
    assert kl.item() == pytest.approx(expected)


def test_full_covariance_kl_agrees_with_diagonal_case():
    mean = torch.tensor([[1.0, -1.0], [0.0, 0.5]])
    cov = torch.diag(torch.tensor([0.5, 2.0]))
    diag = kl_to_standard_normal(mean, torch.log(torch.diagonal(cov)).expand_as(mean)).sum(1)
    assert torch.allclose(kl_full_covariance(mean, cov), diag)


def test_fixed_likelihood_is_summed_squared_error_and_learned_is_gaussian_nll():
    x, mean = torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]])
    assert reconstruction_nll(x, mean).item() == pytest.approx(5.0)
    nll = reconstruction_nll(x, mean, torch.zeros(2)).item()
    assert nll == pytest.approx(0.5 * (5.0 + 2 * math.log(2 * math.pi)))


def test_loss_is_the_batch_mean_of_reconstruction_plus_beta_kl():
    recon = torch.tensor([1.0, 3.0])
    kl = torch.tensor([[0.5], [1.5]])
    assert elbo_loss(recon, kl, 1.0).loss.item() == pytest.approx(2 + 1)
    assert elbo_loss(recon, kl, 0.5).loss.item() == pytest.approx(2 + 0.5)


def test_free_bits_floor_the_penalised_kl_but_not_the_reported_one():
    recon = torch.zeros(2)
    kl = torch.full((2, 3), 0.01)
    terms = elbo_loss(recon, kl, beta=1.0, free_bits=0.5)
    assert terms.loss.item() == pytest.approx(1.5)
    assert terms.kl.item() == pytest.approx(0.03)


def test_warmup_grows_linearly_to_beta():
    assert kl_weight(0.5, 0, 10) == pytest.approx(0.05)
    assert kl_weight(0.5, 9, 10) == pytest.approx(0.5)
    assert kl_weight(0.5, 50, 10) == pytest.approx(0.5)
    assert kl_weight(0.5, 0, 0) == 0.5


@pytest.mark.parametrize("beta,free_bits", [(1.0, 0.0), (0.25, 0.0), (1.0, 0.1), (0.0, 0.0)])
def test_the_loss_and_its_gradient_are_bit_for_bit_the_textbook_formula(beta, free_bits):
    # the ELBO skips a weight of 1 and keeps its reported KL off the graph: the values and the
    # gradients must be exactly those of the formula written out, so a seed trains the same model
    generator = torch.Generator().manual_seed(3)
    recon_rows = torch.rand(64, generator=generator).requires_grad_()
    kl_per_dim = torch.rand(64, 11, generator=generator).requires_grad_()
    terms = elbo_loss(recon_rows, kl_per_dim, beta, free_bits)
    terms.loss.backward()
    grads = recon_rows.grad.clone(), kl_per_dim.grad.clone()

    recon_rows.grad, kl_per_dim.grad = None, None
    kl_dims = kl_per_dim.mean(dim=0)
    penalised = torch.clamp(kl_dims, min=free_bits).sum() if free_bits > 0 else kl_dims.sum()
    written_out = recon_rows.mean() + beta * penalised
    written_out.backward()

    assert torch.equal(terms.loss, written_out)
    assert torch.equal(grads[0], recon_rows.grad) and torch.equal(grads[1], kl_per_dim.grad)
    assert torch.equal(terms.recon, recon_rows.mean())
    assert torch.equal(terms.kl, kl_per_dim.sum(dim=1).mean())
    assert terms.kl.grad_fn is None  # reported, never differentiated
