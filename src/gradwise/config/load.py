"""Loading experiment files, applying ``--set`` overrides, and turning validation errors into
one line that names the key path and the closest valid key (:mod:`.errors`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gradwise.config.errors import format_validation_error
from gradwise.config.schema import ExperimentConfig
from gradwise.errors import ConfigError

ConfigSource = str | Path | Mapping[str, Any] | ExperimentConfig


def load_config(
    source: ConfigSource, overrides: Iterable[str] | Mapping[str, Any] | None = None
) -> ExperimentConfig:
    """Read an experiment (a YAML path, a dict or a config) and apply overrides.

    ``overrides`` is either ``["train.optimizer.lr=3e-3", ...]`` (as from ``--set``) or a mapping
    of dotted keys to values. Raises :class:`ConfigError` with the key path on any problem.
    """
    return validate_config(*read_raw_config(source, overrides))


def read_raw_config(
    source: ConfigSource, overrides: Iterable[str] | Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], str]:
    """The experiment as written (not validated, no defaults filled in), overrides applied, and
    where it came from (for messages)."""
    origin = "config"
    if isinstance(source, ExperimentConfig):
        raw: dict[str, Any] = source.model_dump(mode="json")
    elif isinstance(source, Mapping):
        raw = _deep_copy(source)
    else:
        path = Path(source)
        origin = str(path)
        raw = read_yaml_mapping(path)
        raw.setdefault("name", path.stem)
    for dotted_key, value in _override_items(overrides):
        set_dotted(raw, dotted_key, value)
    return raw, origin


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: no such experiment file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None
    if data is None:
        raise ConfigError(f"{path}: the file is empty; expected a mapping with at least 'data'")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top, got {_kind(data)}")
    return data


def validate_config(raw: Mapping[str, Any], origin: str = "config") -> ExperimentConfig:
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {format_validation_error(exc, ExperimentConfig)}") from None


def dump_config(config: ExperimentConfig) -> str:
    """The resolved config as YAML, every default written out."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


# ------------------------------------------------------------------------------ overrides
def parse_override(text: str) -> tuple[str, Any]:
    """``"train.optimizer.lr=3e-3"`` → ``("train.optimizer.lr", 0.003)``; values are YAML."""
    key, sep, value_text = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, e.g. train.optimizer.lr=0.001")
    return key, parse_value(value_text.strip())


def parse_value(text: str) -> Any:
    for number in (int, float):  # YAML 1.1 reads "3e-3" as a string; we read it as a number
        try:
            return number(text)
        except ValueError:
            pass
    try:
        return yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return text


def set_dotted(raw: dict[str, Any], dotted_key: str, value: Any) -> None:
    parts = dotted_key.split(".")
    node = raw
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        elif isinstance(child, str) and i + 1 < len(parts):  # `schedule: cosine` then .x=...
            child = node[part] = {"name": child}
        if not isinstance(child, dict):
            raise ConfigError(
                f"--set {dotted_key}: '{'.'.join(parts[: i + 1])}' is not a section of keys"
            )
        node = child
    node[parts[-1]] = value


def _override_items(overrides: Iterable[str] | Mapping[str, Any] | None):
    if overrides is None:
        return []
    if isinstance(overrides, Mapping):
        return list(overrides.items())
    return [parse_override(item) for item in overrides]


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string"}.get(type(value), type(value).__name__)
