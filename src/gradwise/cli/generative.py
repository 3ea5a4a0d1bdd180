"""``gradwise embed`` and ``gradwise sample``: what an autoencoder, a VAE or a GAN run gives.

torch is imported only when a command runs (``gradwise --help`` stays instant).
"""

from __future__ import annotations

import argparse

from gradwise.cli.commands import _json_flag, command
from gradwise.cli.output import print_json


def _embed_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run directory of an autoencoder or vae run")
    parser.add_argument(
        "data", nargs="?", default=None, help="inputs to embed (CSV/Parquet/NPZ); default: the "
        "run's own test split"
    )  # fmt: skip
    parser.add_argument("-o", "--output", required=True, help="embeddings file (.npy)")
    parser.add_argument(
        "--clusters", type=int, default=None, help="k-means k (default: best silhouette)"
    )
    parser.add_argument("--seed", type=int, default=0, help="k-means seed (0)")
    _json_flag(parser)


@command("embed", "embed data with an autoencoder or VAE run and cluster it", _embed_args)
def embed(args: argparse.Namespace) -> int:
    from gradwise.api import Run
    from gradwise.errors import ConfigError
    from gradwise.generative.sampling import embed_to_file

    if args.clusters is not None and args.clusters < 2:
        raise ConfigError(f"--clusters: expected at least 2, got {args.clusters}")
    result = embed_to_file(Run(args.run), args.data, args.output, args.clusters, args.seed)
    if args.json:
        print_json(result)
        return 0
    found = result["clustering"]
    print(f"{result['rows']} embeddings ({result['latent']} dims) written to {result['output']}")
    line = (
        f"k-means: {found['k']} clusters ({found['chosen_by']}), silhouette "
        f"{found['silhouette']:.3f}, sizes {found['cluster_sizes']}"
    )
    if "ari" in found:
        line += f"; against the labels: ARI {found['ari']:.3f}, NMI {found['nmi']:.3f}"
    print(line)
    return 0


def _sample_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run directory of a vae or gan run")
    parser.add_argument("-n", type=int, default=64, help="number of samples (64)")
    parser.add_argument(
        "-o", "--output", required=True, help="samples.png (images, signals) or .csv (tables)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the draw (0)")
    _json_flag(parser)


@command("sample", "draw samples from a VAE or GAN run", _sample_args)
def sample(args: argparse.Namespace) -> int:
    from gradwise.api import Run
    from gradwise.generative.sampling import sample_to_file

    result = sample_to_file(Run(args.run), args.n, args.seed, args.output)
    if args.json:
        print_json(result)
    else:
        print(f"{result['samples']} samples (seed {result['seed']}) written to {result['output']}")
    return 0
