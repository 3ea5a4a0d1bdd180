"""One rule for which way a metric improves, shared by the engine, the comparison and the
report, and importable without torch."""

from __future__ import annotations

import pytest

from gradwise.metric_names import higher_is_better
from tests.conftest import run_python


@pytest.mark.parametrize(
    ("name", "higher"),
    [
        ("valid_accuracy", True),
        ("valid_balanced_accuracy", True),
        ("test f1", True),
        ("valid_auc", True),
        ("valid_pr_auc", True),
        ("recall_3", True),
        ("r2", True),
        ("valid_reward", True),
        ("episode_return", True),
        ("valid_loss", False),
        ("train_loss", False),
        ("rmse", False),
        ("mae", False),
        ("valid_nll", False),
        ("valid_kl", False),
        ("valid_mape", False),
        ("valid_error_rate", False),
        ("something_else", False),  # unknown: treated like the default monitor, valid_loss
    ],
)
def test_direction_by_name(name: str, higher: bool):
    assert higher_is_better(name) is higher


def test_engine_and_report_share_the_rule_without_importing_torch():
    code = (
        "import sys\n"
        "import gradwise.metric_names, gradwise.report.compare_runs\n"
        "import gradwise.report.study_sections\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
        "from gradwise.training import metrics\n"
        "assert metrics.higher_is_better is gradwise.metric_names.higher_is_better\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
