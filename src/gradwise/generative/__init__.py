"""Unsupervised and generative learning on the engine: the networks (shaped from the data), the
VAE and GAN math, sample quality measured as a Fréchet distance in a feature space learned from
the data against a Gaussian-mixture baseline, clustering of embeddings next to PCA, and sample
grids. The paradigms that use them are in :mod:`gradwise.tasks.generative`.

Modules: :mod:`.networks`, :mod:`.vae`, :mod:`.gan` and :mod:`.building` (torch);
:mod:`.quality` (FD, feature classifier, mixture baseline); :mod:`.clustering` and :mod:`.grids`
(torch-free); :mod:`.embedding`, :mod:`.records`, :mod:`.recipes`, :mod:`.sampling`.
"""
