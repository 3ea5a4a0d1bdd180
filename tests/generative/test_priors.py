"""The VAE's sampling side: one latent mixture per class (checked against sklearn's mixture on
each class), draws from p(x|z) with the learned variance, and the recipes ``init`` prints with
and without labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from sklearn.mixture import GaussianMixture

import gradwise
from gradwise.config.models import MLPConfig
from gradwise.config.templates import starting_config
from gradwise.errors import ConfigError
from gradwise.generative.building import LATENT_REG, latent_prior
from gradwise.generative.draws import systematic_draw
from gradwise.generative.sampling import draw_samples
from gradwise.generative.vae import VAE, MixturePrior
from tests.generative.conftest import config


def clustered_codes(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three classes of 2-D codes (60, 30 and 90 rows) around different centres."""
    rng = np.random.default_rng(seed)
    centres = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 5.0]])
    labels = np.repeat([0, 1, 2], [60, 30, 90])
    return centres[labels] + rng.normal(size=(len(labels), 2)), labels


def test_a_class_mixture_is_sklearns_mixture_per_class_weighted_by_class_share():
    codes, labels = clustered_codes()
    weights, means, covariances = latent_prior(codes, labels, 2, 3, seed=0)
    assert weights.shape == (6,) and weights.sum() == pytest.approx(1.0)
    for c, share in enumerate([60 / 180, 30 / 180, 90 / 180]):
        block = slice(2 * c, 2 * c + 2)  # class c's components, class-major
        oracle = GaussianMixture(2, covariance_type="full", reg_covar=LATENT_REG, random_state=0)
        oracle.fit(codes[labels == c])
        np.testing.assert_allclose(weights[block], oracle.weights_ * share, rtol=1e-6)
        np.testing.assert_allclose(means[block], oracle.means_, rtol=1e-6)
        np.testing.assert_allclose(covariances[block], oracle.covariances_, rtol=1e-6)


def test_a_class_with_too_few_codes_keeps_unused_slots_at_zero_weight():
    codes, labels = clustered_codes()
    # 25 codes of class 1: one component (one per 10 codes, at most 2); class 3 has no codes
    keep = (labels != 1) | (np.arange(len(labels)) < 85)
    weights, _, covariances = latent_prior(codes[keep], labels[keep], 3, 4, seed=0)
    assert weights.shape == (12,) and weights.sum() == pytest.approx(1.0)
    assert (weights[3:6] > 0).sum() == 2 and weights[9:].sum() == 0.0
    np.testing.assert_allclose(covariances[11], np.eye(2))  # an unused slot stays valid


def test_draws_of_a_class_mixture_say_their_class_and_come_from_its_components():
    codes, labels = clustered_codes()
    prior = MixturePrior(latent=2, components=6, per_class=2)
    prior.load(*latent_prior(codes, labels, 2, 3, seed=0))
    z, drawn = prior.draw(30_000, torch.Generator().manual_seed(0))
    assert drawn is not None and drawn.shape == (30_000,)
    frequencies = np.bincount(drawn.numpy(), minlength=3) / 30_000
    np.testing.assert_allclose(frequencies, [1 / 3, 1 / 6, 1 / 2], atol=0.01)
    for c in range(3):
        np.testing.assert_allclose(
            z[drawn == c].mean(0).numpy(), codes[labels == c].mean(0), atol=0.1
        )
    assert MixturePrior(latent=2, components=3).draw(5, torch.Generator())[1] is None


def test_sample_noise_draws_from_the_gaussian_likelihood_and_leaves_bernoulli_means():
    torch.manual_seed(0)
    vae = VAE(MLPConfig(hidden=[8]), (3,), latent=2).eval()
    with torch.no_grad():
        vae.log_variance.copy_(torch.log(torch.tensor([0.25, 1.0, 4.0])))  # σ = 0.5, 1, 2
        means = vae.sample(20_000, torch.Generator().manual_seed(1), "normal")
        noisy = vae.sample(20_000, torch.Generator().manual_seed(1), "normal", noise=True)
    # the same z (the stream draws z first), then σ ε
    np.testing.assert_allclose((noisy - means).std(0).numpy(), [0.5, 1.0, 2.0], rtol=0.03)
    assert (noisy - means).mean(0).abs().max() < 0.05
    bernoulli = VAE(MLPConfig(hidden=[8]), (3,), latent=2, likelihood="bernoulli").eval()
    with torch.no_grad():
        plain = bernoulli.sample(50, torch.Generator().manual_seed(1), "normal")
        kept = bernoulli.sample(50, torch.Generator().manual_seed(1), "normal", noise=True)
    assert torch.equal(plain, kept) and plain.min() > 0 and plain.max() < 1


def test_a_class_mixture_vae_samples_labelled_digits(digits_npz: Path, tmp_path: Path):
    settings = {"latent": 4, "prior": "class_mixture", "prior_components": 1, "sample_noise": True}
    run = gradwise.train(config(digits_npz, "vae", generative=settings), out=tmp_path)
    model = gradwise.Run(run.path).model  # the per-class mixture came back with the weights
    assert model.prior.weights.shape == (10,) and bool(model.prior.fitted)
    samples, labels = draw_samples(gradwise.Run(run.path), 200, seed=0)
    assert samples.shape == (200, 1, 8, 8) and labels is not None
    assert len(set(labels)) >= 8  # every digit has weight; 200 draws see nearly all of them
    again, same = draw_samples(gradwise.Run(run.path), 200, seed=0)
    np.testing.assert_array_equal(samples, again)
    assert labels == same


def recipe(dataset: str, task: str) -> gradwise.ExperimentConfig:
    return gradwise.load_config(yaml.safe_load(starting_config(dataset, task=task)))


def test_recipes_use_the_labels_when_the_data_has_them(unlabelled_csv: Path):
    vae, gan = recipe("sklearn:digits", "vae"), recipe("mnist1d", "gan")
    assert vae.generative.prior == "class_mixture" and vae.generative.sample_noise
    assert gan.generative.conditional and gan.generative.gradient_penalty > 0
    plain_vae, plain_gan = recipe(str(unlabelled_csv), "vae"), recipe(str(unlabelled_csv), "gan")
    assert plain_vae.generative.prior == "mixture" and not plain_gan.generative.conditional
    assert plain_vae.generative.prior_components > vae.generative.prior_components


def test_systematic_draws_give_each_component_its_share_up_to_one_draw():
    weights = torch.tensor([0.0, 0.137, 0.5, 0.0, 0.363])
    for seed in range(5):
        k = systematic_draw(weights, 1001, torch.Generator().manual_seed(seed))
        counts = torch.bincount(k, minlength=5).double()
        assert (counts - 1001 * weights.double()).abs().max() <= 1.0
        assert counts[0] == counts[3] == 0  # a zero weight is never drawn
        assert not torch.equal(k, k.sort().values)  # in random order, not in blocks
    # independent draws miss the shares by many draws (the noise this takes away)
    independent = torch.multinomial(weights, 1001, replacement=True, generator=torch.Generator())
    assert (torch.bincount(independent, minlength=5) - 1001 * weights).abs().max() > 1.0


def test_a_gan_recipe_counts_generator_steps_when_the_rows_are_known(unlabelled_csv: Path):
    # 1797 digits: 0.7 of them train in ⌈1258 / 64⌉ = 20 steps an epoch; 4000 steps
    assert recipe("sklearn:digits", "gan").train.epochs == 200
    assert recipe("mnist1d", "gan").train.epochs == 70  # 5000 rows: 55 steps an epoch
    assert recipe(str(unlabelled_csv), "gan").train.epochs == 100  # rows unknown to init
    assert recipe("mnist1d", "vae").train.epochs == 80


@pytest.mark.parametrize("task", ["vae", "gan", "autoencoder", None])
def test_init_refuses_a_dataset_name_that_would_not_train_and_names_the_one_meant(task):
    with pytest.raises(
        ConfigError, match=r"unknown dataset 'digits' \(did you mean 'sklearn:digits'"
    ):
        starting_config("digits", task=task)


def test_the_recipe_header_reads_as_english():
    assert starting_config("sklearn:digits", task="autoencoder").startswith(
        "# gradwise experiment: an autoencoder of sklearn:digits."
    )
