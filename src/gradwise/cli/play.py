"""``gradwise play RUN --episodes 5 [--gif out.gif] [--json]``: a trained agent's deterministic
episodes, their returns, and optionally their frames as a GIF. Torch and Gymnasium are imported
only when the command runs."""

from __future__ import annotations

import argparse

from gradwise.cli.commands import _json_flag, command
from gradwise.cli.output import print_json, print_table


def _play_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="a task: rl run directory")
    parser.add_argument("--episodes", type=int, default=5, help="episodes to play (5)")
    parser.add_argument("--gif", default=None, metavar="FILE", help="write the frames as a GIF")
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the first episode (the next ones +1)"
    )
    _json_flag(parser)


@command("play", "play a reinforcement-learning agent's deterministic episodes", _play_args)
def play(args: argparse.Namespace) -> int:
    from gradwise.api import Run
    from gradwise.rl.play import PLAY_SEED
    from gradwise.rl.play import play as play_episodes

    seed = PLAY_SEED if args.seed is None else args.seed
    result = play_episodes(Run(args.run), args.episodes, args.gif, seed)
    if args.json:
        print_json(result)
        return 0
    print_table(
        ["episode", "return", "length"],
        [
            [i + 1, r, n]
            for i, (r, n) in enumerate(zip(result["returns"], result["lengths"], strict=True))
        ],
    )
    print(
        f"{result['env']}: mean return {result['return_mean']:.2f} ± {result['return_std']:.2f} "
        f"over {result['episodes']} episodes"
    )
    if "gif" in result:
        print(f"gif: {result['gif']} ({result['frames']} frames)")
    return 0
