"""Remedies as config changes, chosen for the run's own config (model kind, optimizer, values).

Each function returns a :class:`Remedy` (``key``, ``value``, one-sentence ``why``) or ``None``
when the change does not apply (already set, or not a key of this model kind). ``--fix`` applies
them with the ordinary override mechanism, ``load_config(run_config, {key: value, ...})``.
"""

from __future__ import annotations

from gradwise.augment.options import parse_sampling
from gradwise.config import ExperimentConfig
from gradwise.diagnose.evidence import BALANCING
from gradwise.diagnose.findings import Remedy

# A learning rate that trains most small and medium models with each optimizer.
SAFE_LR: dict[str, float] = {
    "sgd": 0.01,
    "adam": 1e-3,
    "adamw": 1e-3,
    "rmsprop": 1e-3,
    "adagrad": 0.01,
}
SATURATING = ("sigmoid", "tanh")


def one_digit(value: float) -> float:
    """Round to one significant digit, as a person would write a learning rate."""
    return float(f"{value:.1g}")


def lower_lr(config: ExperimentConfig, why: str) -> Remedy:
    """Formula: lr' = min(lr / 10, safe lr of the optimizer)."""
    optimizer = config.train.optimizer
    new = one_digit(min(optimizer.lr / 10, SAFE_LR.get(optimizer.name, 1e-3)))
    return Remedy("train.optimizer.lr", new, why)


def raise_lr(config: ExperimentConfig, why: str) -> Remedy:
    """Formula: lr' = max(lr · 10, safe lr of the optimizer)."""
    optimizer = config.train.optimizer
    new = one_digit(max(optimizer.lr * 10, SAFE_LR.get(optimizer.name, 1e-3)))
    return Remedy("train.optimizer.lr", new, why)


def lab_hint(lab: str, what: str, config_path: object) -> str:
    """A sentence pointing to the lab (``gradwise lab``) that measures ``what`` on the run's
    own experiment."""
    return f" To measure {what}, over seeds: gradwise lab {lab} {config_path}"


def clip_gradients(config: ExperimentConfig) -> Remedy | None:
    clip = config.train.grad_clip
    if clip is not None and clip <= 1.0:
        return None
    return Remedy(
        "train.grad_clip",
        1.0,
        "Clipping the global gradient norm to 1 bounds every step, so one bad batch cannot "
        "throw the weights far away.",
    )


def scale_inputs(config: ExperimentConfig) -> Remedy | None:
    if config.data is None or config.data.scale != "none":  # no dataset: nothing to scale
        return None
    return Remedy(
        "data.scale",
        "standard",
        "Unscaled inputs with large values push pre-activations far from zero; standardizing "
        "each feature (fitted on the training split) keeps them in the useful range.",
    )


def normalization(config: ExperimentConfig) -> Remedy | None:
    model = config.model
    if model.norm != "none":
        return None
    if model.kind == "rnn":
        return Remedy(
            "model.norm",
            "layer",
            "Layer normalization of the recurrent output keeps its scale steady for the head.",
        )
    if config.agent is not None:  # an agent acts on single observations: no batch statistics
        return Remedy(
            "model.norm",
            "layer",
            "Layer normalization re-centres and re-scales every layer's pre-activations per "
            "observation, so signals keep a usable size.",
        )
    return Remedy(
        "model.norm",
        "batch",
        "Batch normalization re-centres and re-scales every layer's pre-activations, so "
        "signals and gradients keep a usable size through depth.",
    )


def non_saturating_activation(config: ExperimentConfig) -> Remedy | None:
    model = config.model
    if model.kind == "rnn":
        if getattr(model, "cell", "") != "rnn":
            return None
        return Remedy(
            "model.cell",
            "gru",
            "A GRU's gates carry gradients across many time steps, where a plain RNN's "
            "repeated tanh squashes them.",
        )
    if model.activation not in SATURATING:
        return None
    return Remedy(
        "model.activation",
        "relu",
        f"{model.activation} saturates (its derivative is at most "
        f"{0.25 if model.activation == 'sigmoid' else 1.0:g} and near 0 at the bounds); ReLU "
        "passes gradients unchanged wherever it is active.",
    )


def leaky_activation(config: ExperimentConfig) -> Remedy | None:
    if config.model.kind == "rnn" or config.model.activation != "relu":
        return None
    return Remedy(
        "model.activation",
        "leaky_relu",
        "Leaky ReLU keeps a small slope for negative inputs, so a unit that drifted negative "
        "still gets gradient and can recover.",
    )


def bigger_model(config: ExperimentConfig) -> Remedy | None:
    model = config.model
    why = "More units give the model the capacity to fit what the data holds."
    if model.kind == "mlp":
        hidden = list(model.hidden) or [64]
        return Remedy("model.hidden", [max(64, 4 * width) for width in hidden], why)
    if model.kind in ("cnn1d", "cnn2d"):
        return Remedy("model.channels", [2 * c for c in model.channels], why)
    if model.kind == "rnn":
        return Remedy("model.hidden_size", 2 * model.hidden_size, why)
    return None


def more_epochs(config: ExperimentConfig) -> Remedy:
    epochs = min(100_000, 2 * config.train.epochs)
    return Remedy(
        "train.epochs",
        epochs,
        "The training loss was still falling when training stopped; more epochs let it finish.",
    )


def dropout(config: ExperimentConfig) -> Remedy | None:
    if config.model.dropout >= 0.3:
        return None
    return Remedy(
        "model.dropout",
        0.3,
        "Dropout stops units from co-adapting to memorize the training samples.",
    )


def weight_decay(config: ExperimentConfig) -> Remedy | None:
    if config.train.optimizer.weight_decay > 0:
        return None
    return Remedy(
        "train.optimizer.weight_decay",
        1e-4,
        "Weight decay (L2) keeps the weights small, which favours smoother functions that "
        "generalize.",
    )


def early_stopping(config: ExperimentConfig) -> Remedy | None:
    if config.train.early_stopping is not None:
        return None
    return Remedy(
        "train.early_stopping",
        {"patience": 10},
        "Early stopping ends training once the validation loss has stopped improving for 10 "
        "epochs, before the model memorizes noise.",
    )


def balanced_class_weights(config: ExperimentConfig) -> Remedy | None:
    if config.train.class_weights is not None or balanced_by_sampling(config):
        return None
    return Remedy(
        "train.class_weights",
        "balanced",
        "Weighting the loss by inverse class frequency makes each minority sample count as "
        "much as the majority class in total.",
    )


def balanced_by_sampling(config: ExperimentConfig) -> bool:
    return parse_sampling(config.data.sampling)[0] in BALANCING


def present(*remedies: Remedy | None) -> list[Remedy]:
    """The applicable remedies, first one per key kept."""
    kept: dict[str, Remedy] = {}
    for remedy in remedies:
        if remedy is not None and remedy.key not in kept:
            kept[remedy.key] = remedy
    return list(kept.values())


# ----------------------------------------------------------------- reinforcement learning
def entropy_bonus(config: ExperimentConfig) -> Remedy | None:
    """PPO: a positive entropy coefficient (0.01, the usual value) keeps the policy exploring."""
    agent = config.agent
    if agent is None or agent.name != "ppo" or agent.ent_coef >= 0.01:
        return None
    return Remedy(
        "agent.ent_coef",
        0.01,
        "An entropy bonus pays the policy for keeping some probability on every action, so it "
        "keeps exploring until it has found what earns reward.",
    )


def smaller_policy_steps(config: ExperimentConfig) -> Remedy | None:
    """PPO: a tighter clip range bounds how far one update moves the policy."""
    agent = config.agent
    if agent is None or agent.name != "ppo" or agent.clip_range <= 0.1:
        return None
    return Remedy(
        "agent.clip_range",
        0.1,
        "A tighter clip range limits how much one update may change the action probabilities.",
    )


def slower_target(config: ExperimentConfig) -> Remedy | None:
    """DQN: update the target network 10× less often (at least every 1000 steps)."""
    agent = config.agent
    if agent is None or agent.name != "dqn":
        return None
    return Remedy(
        "agent.target_update_interval",
        max(1000, 10 * agent.target_update_interval),
        "A target network that follows the online one slowly stops the Q-values from chasing "
        "their own estimates upwards.",
    )


def double_q(config: ExperimentConfig) -> Remedy | None:
    agent = config.agent
    if agent is None or agent.name != "dqn" or agent.double_q or agent.munchausen:
        return None  # Munchausen targets have no action pick to decouple
    return Remedy(
        "agent.double_q",
        True,
        "Double Q-learning scores the next action with the target network but picks it with "
        "the online one, removing the max operator's upward bias (van Hasselt et al., 2016).",
    )


def huber_td_loss(config: ExperimentConfig) -> Remedy | None:
    agent = config.agent
    if agent is None or agent.name != "dqn" or agent.loss == "huber":
        return None
    return Remedy(
        "agent.loss",
        "huber",
        "The Huber loss bounds the gradient of a large TD error, so one surprising transition "
        "cannot throw the Q-values far away.",
    )


def layer_norm_values(config: ExperimentConfig) -> Remedy | None:
    """An agent's networks with a LayerNorm before each activation."""
    if config.agent is None or config.model.norm != "none":
        return None
    return Remedy(
        "model.norm",
        "layer",
        "A LayerNorm before each activation holds the features the value head reads at a fixed "
        "scale, so the values can run away only through the head's own weights (Ball et al., "
        "2023; Gallici et al., 2024).",
    )


def normalize_rewards(config: ExperimentConfig) -> Remedy | None:
    env = config.env
    if env is None or env.normalize_reward:
        return None
    return Remedy(
        "env.normalize_reward",
        True,
        "Dividing rewards by the spread of the discounted return keeps value targets near 1.",
    )


def value_clipping(config: ExperimentConfig) -> Remedy | None:
    agent = config.agent
    if agent is None or agent.name != "ppo" or agent.clip_range_vf is not None:
        return None
    return Remedy(
        "agent.clip_range_vf",
        0.2,
        "Clipping the value update keeps each value estimate near its previous one.",
    )
