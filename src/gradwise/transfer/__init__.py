"""Transfer learning: start from a saved run or local weights (matched by name and shape),
freeze module-name patterns, unfreeze layer group by layer group, and give each layer group its
own learning rate.

- :mod:`.source` — ``model.init_from``: resolving, loading by name and shape, input checks
- :mod:`.freeze` — ``model.freeze`` and ``train.unfreeze`` (frozen batch norms stay in eval mode)
- :mod:`.groups` — layer groups and discriminative learning rates (``train.optimizer.lr_decay``)
- :mod:`.setup` — the three wired together for one experiment, and its record
"""

from gradwise.transfer.freeze import FreezeSchedule, Freezing
from gradwise.transfer.groups import LayerGroup, layer_groups, optimizer_param_groups
from gradwise.transfer.setup import Transfer, log_lines
from gradwise.transfer.source import LoadReport, Source, load_matching, resolve_source

__all__ = [
    "FreezeSchedule",
    "Freezing",
    "LayerGroup",
    "LoadReport",
    "Source",
    "Transfer",
    "layer_groups",
    "load_matching",
    "log_lines",
    "optimizer_param_groups",
    "resolve_source",
]
