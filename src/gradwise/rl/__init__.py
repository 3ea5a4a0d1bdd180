"""Reinforcement learning on Gymnasium environments: agents (``dqn``, ``ppo``), their networks,
rollout and replay buffers, vectorized environments, normalization, evaluation and play.

The paradigm that trains them is :mod:`gradwise.tasks.rl` (``task: rl``). Importing this package
is light; its modules import torch and Gymnasium (the ``rl`` extra) themselves.
"""
