"""The math of the generative package against trusted references (scipy, torch.distributions,
sklearn), and the networks' shapes for every model kind."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from torch.distributions import Bernoulli, Normal, kl_divergence

from gradwise.config.schema import CNN1dConfig, CNN2dConfig, MLPConfig
from gradwise.errors import DataError
from gradwise.generative.clustering import agreement, cluster, pca_points, project_2d
from gradwise.generative.gan import (
    GAN,
    STANDING_BATCH,
    STANDING_DRAWS,
    discriminator_accuracy,
    discriminator_loss,
    generator_loss,
    r1_penalty,
)
from gradwise.generative.networks import (
    FLOOR_SLOPE,
    Discriminator,
    Generator,
    MinibatchStd,
    decoder,
)
from gradwise.generative.quality import (
    class_spread,
    distance_trio,
    fit_feature_space,
    frechet_distance,
    mixture_baseline,
)
from gradwise.generative.vae import VAE, MixturePrior, vae_objective, warmup_beta


def scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


def test_frechet_distance_matches_the_scipy_formula_and_is_zero_for_the_same_set():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(loc=0.5, size=(400, 6)) * 2.0
    assert frechet_distance(a, b) == pytest.approx(scipy_frechet(a, b), rel=1e-6)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    # a pure shift of the mean: FD = |shift|² (same covariance)
    assert frechet_distance(a, a + 3.0) == pytest.approx(6 * 9.0, rel=1e-9)


def test_vae_terms_match_torch_distributions():
    torch.manual_seed(0)
    vae = VAE(MLPConfig(hidden=[8]), (5,), latent=3)
    with torch.no_grad():
        vae.log_variance.copy_(torch.linspace(-1.0, 1.0, 5))
    x = torch.randn(7, 5)
    mu, log_var = vae.posterior(x)
    posterior = Normal(mu, torch.exp(0.5 * log_var))
    _, kl = vae.terms(x, torch.Generator().manual_seed(1))
    expected_kl = kl_divergence(posterior, Normal(torch.zeros(3), torch.ones(3)))
    torch.testing.assert_close(kl, expected_kl, rtol=1e-5, atol=1e-6)
    out = torch.randn(7, 5)
    gaussian = Normal(out, torch.exp(0.5 * vae.log_variance)).log_prob(x).sum(1)
    torch.testing.assert_close(vae.log_likelihood(x, out), gaussian, rtol=1e-5, atol=1e-5)
    bernoulli = VAE(MLPConfig(hidden=[8]), (5,), latent=3, likelihood="bernoulli")
    target = torch.rand(7, 5).round()
    expected = Bernoulli(logits=out).log_prob(target).sum(1)
    torch.testing.assert_close(bernoulli.log_likelihood(target, out), expected)


def test_objective_free_bits_and_warmup():
    log_likelihood = torch.tensor([-10.0, -12.0])
    kl = torch.tensor([[0.5, 0.01], [1.5, 0.03]])  # mean per unit: 1.0, 0.02
    assert vae_objective(log_likelihood, kl, 1.0, 0.0).item() == pytest.approx(11.0 + 1.02)
    # free bits: the second unit is charged λ = 0.5, not 0.02 (and gets no gradient)
    assert vae_objective(log_likelihood, kl, 2.0, 0.5).item() == pytest.approx(11.0 + 2 * 1.5)
    assert warmup_beta(4.0, 10.0, 2.5) == pytest.approx(1.0)
    assert warmup_beta(4.0, 10.0, 30.0) == 4.0
    assert warmup_beta(4.0, 0.0, 0.0) == 4.0


def test_mixture_prior_samples_have_the_fitted_moments():
    prior = MixturePrior(latent=2, components=2)
    covariance = np.array([[[1.0, 0.5], [0.5, 2.0]], [[0.2, 0.0], [0.0, 0.2]]])
    prior.load([0.25, 0.75], [[8.0, 8.0], [-1.0, 0.0]], covariance)
    z = prior.sample(40_000, torch.Generator().manual_seed(0)).numpy()
    first = z[:, 0] > 3.5  # 4.5 standard deviations from either mean: no component is cut
    assert first.mean() == pytest.approx(0.25, abs=0.001)  # systematic draws: the exact share
    np.testing.assert_allclose(np.cov(z[first], rowvar=False), covariance[0], atol=0.05)
    np.testing.assert_allclose(z[~first].mean(0), [-1.0, 0.0], atol=0.02)


def test_gan_losses_are_the_binary_cross_entropies_and_r1_is_the_gradient_norm():
    real, fake = torch.randn(6), torch.randn(6)
    bce = F.binary_cross_entropy_with_logits
    expected = bce(real, torch.ones(6)) + bce(fake, torch.zeros(6))
    torch.testing.assert_close(discriminator_loss(real, fake), expected)
    torch.testing.assert_close(generator_loss(fake), bce(fake, torch.ones(6)))
    assert discriminator_accuracy(torch.tensor([1.0, -1.0]), torch.tensor([-1.0, -2.0])) == 0.75
    x = torch.randn(4, 3, requires_grad=True)
    weight = torch.tensor([1.0, -2.0, 3.0])
    logits = (x * weight).sum(1) + (x**2).sum(1)  # ∇ = weight + 2x
    expected_r1 = 0.5 * ((weight + 2 * x.detach()) ** 2).sum(1).mean()
    torch.testing.assert_close(r1_penalty(logits, x), expected_r1)


def test_generator_average_moves_by_one_minus_the_warmed_up_decay():
    torch.manual_seed(0)
    gan = GAN(MLPConfig(hidden=[8]), (5,), latent=2, ema=0.9)
    before = [p.clone() for p in gan.generator_ema.parameters()]
    with torch.no_grad():
        for p in gan.generator.parameters():
            p.add_(1.0)
    gan.update_average()
    decay = min(0.9, 2 / 11)  # the first update: d_1 = (1 + 1) / (10 + 1)
    for old, new, current in zip(
        before, gan.generator_ema.parameters(), gan.generator.parameters(), strict=True
    ):
        torch.testing.assert_close(new, decay * old + (1 - decay) * current)
    assert not any(p.requires_grad for p in gan.generator_ema.parameters())


def test_averaged_generator_takes_its_batch_norm_statistics_from_its_own_outputs():
    torch.manual_seed(0)
    gan = GAN(MLPConfig(hidden=[16], norm="batch"), (5,), latent=3, ema=0.9, n_classes=2)
    gan.class_prior.copy_(torch.tensor([0.25, 0.75]))
    with torch.no_grad():
        for p in gan.generator_ema.parameters():
            p.add_(0.5 * torch.randn_like(p))  # the average differs from the live weights
    (norm,) = [m for m in gan.generator_ema.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    inputs: list[torch.Tensor] = []  # what reaches the norm layer, drawn as the method draws
    hook = norm.register_forward_hook(lambda module, args, out: inputs.append(args[0].detach()))
    replay = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(STANDING_DRAWS // STANDING_BATCH):
            z = gan.noise(STANDING_BATCH, replay)
            gan.generator_ema(z, gan.draw_labels(STANDING_BATCH, replay))
    hook.remove()
    mean = torch.stack([x.mean(0) for x in inputs]).mean(0)  # module text
    var = torch.stack([x.var(0) for x in inputs]).mean(0)
    gan.eval()
    gan.standing_statistics(torch.Generator().manual_seed(1))
    torch.testing.assert_close(norm.running_mean, mean)
    torch.testing.assert_close(norm.running_var, var)
    (live,) = [m for m in gan.generator.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert not torch.allclose(norm.running_mean, live.running_mean)  # neither copied ...
    gan.update_average()
    torch.testing.assert_close(norm.running_mean, mean)  # ... nor moved by a step
    assert not gan.generator_ema.training and norm.momentum == 0.1


def test_a_floored_generator_compresses_what_falls_below_the_floor():
    torch.manual_seed(0)
    plain = Generator(MLPConfig(hidden=[8]), 3, (2, 5))
    floored = Generator(MLPConfig(hidden=[8]), 3, (2, 5), floor=True)
    floored.load_state_dict(plain.state_dict() | {"floor": floored.floor})
    floor = torch.linspace(-1.0, 1.0, 10).view(2, 5)
    floored.floor.copy_(floor)
    z = torch.randn(64, 3)
    h = plain(z)
    x = floored(z)
    expected = torch.where(h >= floor, h, floor + FLOOR_SLOPE * (h - floor))  # module text
    torch.testing.assert_close(x, expected)
    assert (h < floor).any() and (h > floor).any()  # both branches are exercised
    x.sum().backward()  # gradient 1 above the floor, FLOOR_SLOPE below
    (weight_grad,) = torch.autograd.grad(expected.sum(), plain.body.body[-1].weight)
    torch.testing.assert_close(floored.body.body[-1].weight.grad, weight_grad)
    assert plain.floor is None and "floor" not in plain.state_dict()


def test_gan_floor_is_set_in_both_generators_and_kept_by_the_average():
    gan = GAN(MLPConfig(hidden=[8]), (5,), latent=2, ema=0.9, output_floor=True)
    data_min = torch.arange(5.0)
    gan.set_floor(data_min)
    gan.update_average()
    for generator in (gan.generator, gan.generator_ema):
        torch.testing.assert_close(generator.floor, data_min)


@pytest.mark.parametrize(
    ("model", "shape"),
    [
        (MLPConfig(hidden=[16, 8]), (13,)),
        (MLPConfig(hidden=[16]), (3, 7, 9)),
        (CNN1dConfig(channels=[4, 8, 8], pool_every=1), (1, 40)),
        (CNN1dConfig(channels=[4, 8], pool_every=1), (2, 37)),
        (CNN1dConfig(channels=[4, 8], pool_every=1), (37,)),
        (CNN2dConfig(channels=[4, 8], pool_every=1), (1, 8, 8)),
        (CNN2dConfig(channels=[4, 8], pool_every=1), (3, 7, 9)),
    ],
)
def test_every_kind_decodes_to_the_data_shape_and_discriminates_it(model, shape):
    torch.manual_seed(0)
    z = torch.randn(5, 3)
    assert decoder(model, 3, shape)(z).shape == (5, *shape)
    vae = VAE(model, shape, latent=3)
    x = torch.randn(5, *shape)
    assert vae(x).shape == (5, *shape)
    assert vae.sample(4, torch.Generator().manual_seed(0), "normal").shape == (4, *shape)
    logits = Discriminator(model, shape, spectral=True, minibatch_std=True, n_classes=3)(
        x, torch.tensor([0, 1, 2, 0, 1])
    )
    assert logits.shape == (5,)


@pytest.mark.parametrize(
    ("model", "shape"),
    [(MLPConfig(hidden=[16, 8]), (13,)), (CNN1dConfig(channels=[4, 8], pool_every=1), (1, 40))],
)
def test_discriminator_dropout_follows_each_hidden_layer_in_training_only(model, shape):
    torch.manual_seed(0)
    plain = Discriminator(model, shape, spectral=False, minibatch_std=True)
    torch.manual_seed(0)  # the same weights: dropout adds no parameters
    dropped = Discriminator(model, shape, spectral=False, minibatch_std=True, dropout=0.5)
    layers = list(dropped.features.modules())
    rates = [m.p for m in layers if isinstance(m, torch.nn.Dropout)]
    hidden = model.hidden if isinstance(model, MLPConfig) else model.channels
    assert rates == [0.5] * len(hidden)
    x = torch.randn(6, *shape)
    dropped.eval()
    torch.testing.assert_close(dropped(x), plain(x))  # the layers are identities when judging
    dropped.train()
    assert not torch.allclose(dropped(x), dropped(x))


def test_a_conv_kind_that_does_not_fit_the_shape_is_one_data_error():
    with pytest.raises(DataError, match=r"model\.kind: cnn2d expects inputs shaped"):
        decoder(CNN2dConfig(), 3, (40,))


def test_minibatch_std_sees_a_collapsed_batch():
    varied = MinibatchStd()(torch.randn(8, 4))
    same = MinibatchStd()(torch.ones(8, 4))
    assert varied.shape == (8, 5) and varied[0, 4] > 0.5
    assert torch.allclose(same[:, 4], torch.tensor(1e-4))


def test_clustering_finds_separated_blobs_and_scores_them_against_labels():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    labels = np.repeat(np.arange(3), 60)
    points = centres[labels] + rng.normal(scale=0.5, size=(180, 2))
    found = cluster(points, seed=0, max_clusters=6)
    assert found.k == 3 and found.chosen_by == "silhouette"
    assert found.summary(labels)["ari"] == pytest.approx(1.0)
    assert agreement(labels, rng.integers(0, 3, 180))["ari"] < 0.1
    assert cluster(points, seed=0, k=4).k == 4
    assert pca_points(points, points[:5], 1).shape == (5, 1)
    assert project_2d(points).shape == (180, 2)


def test_feature_space_classifier_learns_the_labels_and_pca_without_them():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(2), 100)
    x = (rng.normal(size=(200, 6)) + 3 * y[:, None]).astype(np.float32)
    space = fit_feature_space(x, y, seed=0, x_valid=x, y_valid=y)
    assert space.kind == "classifier" and space.accuracy > 0.95
    assert space.features(x).shape == (200, 64)
    again = fit_feature_space(x, y, seed=0)
    np.testing.assert_array_equal(space.features(x[:3]), again.features(x[:3]))  # seeded
    spread = class_spread(space, x[:100], x)  # one class only
    assert spread["class_entropy_ratio"] < 0.1 and spread["feature_variance_ratio"] < 1
    pca = fit_feature_space(x, None, seed=0)
    assert pca.kind == "pca" and pca.features(x).shape == (200, 6) and pca.classes(x) is None
    assert math.isclose(frechet_distance(pca.features(x), pca.features(x)), 0.0, abs_tol=1e-8)


def test_distance_trio_averages_draws_and_mixture_fits():
    rng = np.random.default_rng(0)
    x_train = rng.normal(size=(120, 3)).astype(np.float32)
    x_test = rng.normal(size=(60, 3)).astype(np.float32)
    space = fit_feature_space(x_train, None, seed=0)
    sets = [rng.normal(loc=shift, size=(120, 3)).astype(np.float32) for shift in (0.0, 1.0)]
    trio = distance_trio(space, sets, x_train, x_test, seed=4)
    test = space.features(x_test)
    fds = [frechet_distance(space.features(s), test) for s in sets]
    fits = [  # one mixture fit per set, seeded 4 and 5
        frechet_distance(space.features(mixture_baseline(x_train, 120, seed)), test)
        for seed in (4, 5)
    ]
    assert trio["fd"] == pytest.approx(np.mean(fds)) and fds[1] > fds[0] + 1  # the sets differ
    assert trio["fd_sd"] == pytest.approx(np.std(fds, ddof=1))
    assert trio["fd_baseline"] == pytest.approx(np.mean(fits))
    assert trio["fd_baseline_sd"] == pytest.approx(np.std(fits, ddof=1))
    assert trio["fd_ratio"] == pytest.approx(trio["fd"] / trio["fd_baseline"])
    assert distance_trio(space, sets[:1], x_train, x_test, seed=4)["fd_sd"] == 0.0


@pytest.mark.parametrize(
    ("fd", "fd_sd", "expected"),
    [
        (2.0, 0.3, "Better than the Gaussian mixture"),
        (3.0, 0.3, "Level with the Gaussian mixture"),  # 0.4 apart, 2 standard errors ≈ 0.54
        (3.6, 0.1, "Not better than the Gaussian mixture"),
    ],
)
def test_fd_verdict_calls_a_difference_within_the_draws_noise_level(fd, fd_sd, expected):
    from gradwise.report.generative_sections import fd_verdict

    test = {"fd": fd, "fd_sd": fd_sd, "fd_baseline": 2.6, "fd_baseline_sd": 0.5, "fd_floor": 1.5}
    assert fd_verdict({**test, "fd_draws": 5}).startswith(expected)
