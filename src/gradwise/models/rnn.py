"""Recurrent networks (RNN/LSTM/GRU) over sequences.

Inputs ``(B, L)`` are read as one feature per step, ``(B, C, L)`` as C features per step (the
channel-first layout used for signals everywhere in gradwise).
"""

from __future__ import annotations

from torch import nn

from gradwise.config.schema import RNNConfig
from gradwise.models.registry import MODELS

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class RecurrentNet(nn.Module):
    def __init__(self, config: RNNConfig, input_shape: tuple[int, ...], output_dim: int) -> None:
        super().__init__()
        features = input_shape[0] if len(input_shape) == 2 else 1
        extra = {"nonlinearity": config.activation} if config.cell == "rnn" else {}
        self.rnn = _CELLS[config.cell](
            features,
            config.hidden_size,
            num_layers=config.layers,
            batch_first=True,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.layers > 1 else 0.0,
            **extra,
        )
        self.pooling = config.pooling
        width = config.hidden_size * (2 if config.bidirectional else 1)
        self.norm = nn.LayerNorm(width) if config.norm == "layer" else nn.Identity()
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()
        self.head = nn.Linear(width, output_dim)

    def forward(self, x):
        if x.dim() == 2:  # (B, L) -> (B, L, 1)
            x = x.unsqueeze(-1)
        else:  # (B, C, L) -> (B, L, C)
            x = x.transpose(1, 2)
        out, _ = self.rnn(x)  # (B, L, H * directions)
        summary = out.mean(dim=1) if self.pooling == "mean" else out[:, -1]
        return self.head(self.dropout(self.norm(summary)))


@MODELS.register("rnn")
def build_rnn(config: RNNConfig, input_shape: tuple[int, ...], output_dim: int) -> nn.Module:
    if config.cell == "rnn" and config.activation not in ("tanh", "relu"):
        from gradwise.errors import ConfigError

        raise ConfigError(
            f"model.activation: the plain rnn cell supports tanh or relu, got '{config.activation}'"
        )
    if len(input_shape) not in (1, 2):
        from gradwise.errors import DataError

        raise DataError(
            f"model.kind: rnn expects sequences shaped (length,) or (channels, "
            f"length), got {input_shape}"
        )
    return RecurrentNet(config, input_shape, output_dim)
