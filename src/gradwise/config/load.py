"""Loading experiment files, applying ``--set`` overrides, and turning validation errors into
one line that names the key path and the closest valid key (:mod:`.errors`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gradwise.config.errors import first_problem
from gradwise.config.schema import ExperimentConfig
from gradwise.errors import ConfigError

ConfigSource = str | Path | Mapping[str, Any] | ExperimentConfig
# libyaml's safe loader when PyYAML was built with it: the same documents, ten times faster
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_config(
    source: ConfigSource, overrides: Iterable[str] | Mapping[str, Any] | None = None
) -> ExperimentConfig:
    """Read an experiment (a YAML path, a dict or a config) and apply overrides.

    ``overrides`` is either ``["train.optimizer.lr=3e-3", ...]`` (as from ``--set``) or a mapping
    of dotted keys to values. Raises :class:`ConfigError` with the key path on any problem.
    """
    if overrides is not None and not isinstance(overrides, Mapping):
        overrides = list(overrides)  # read twice: applied, then named in an error
    raw, origin = read_raw_config(source, overrides)
    return validate_config(raw, origin, overrides)


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
        resolve_paths(raw, path.parent)
    for dotted_key, value in _override_items(overrides):
        set_dotted(raw, dotted_key, value)
    resolve_paths(raw, None)  # overrides, dicts and configs: against the current directory
    return raw, origin


def resolve_paths(raw: dict[str, Any], base: Path | None) -> None:
    """Make the relative paths of an experiment absolute, in place: against ``base`` (the
    experiment file's folder) or the current directory when None. Absolute paths are what
    the run directory's ``config.yaml`` then holds, so a run resumes from any directory.

    A path found only in the current directory (written before paths were relative to the
    file: older run directories, ``gradwise init data/x.csv > data/x.yaml``) keeps that meaning.
    """
    from gradwise.data.options import resolve_source  # light; imports the config package

    model = raw.get("model")
    if isinstance(model, dict) and isinstance(model.get("init_from"), str):
        model["init_from"] = resolve_file(model["init_from"], base)
    data = raw.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("source"), str):
        return
    source = data["source"]
    resolved = resolve_source(source, base)
    if base is not None and resolved != source and not Path(resolved).exists():
        in_cwd = resolve_source(source)
        if Path(in_cwd).exists():
            resolved = in_cwd
    data["source"] = resolved


def resolve_file(path: str, base: Path | None) -> str:
    """``path`` made absolute against ``base`` (else the current directory); a relative path
    that exists only in the current directory keeps that meaning."""
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return str(candidate)
    if base is not None and ((base / candidate).exists() or not candidate.exists()):
        return str((base / candidate).absolute())
    return str(candidate.absolute())


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"{path}: no such experiment file")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
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
    _check_expanded_size(path, data)
    return data


MAX_CONFIG_VALUES = 100_000  # an experiment holds hundreds; nested aliases can multiply them


def _check_expanded_size(path: Path, data: Any) -> None:
    """Refuse a file whose aliases expand it past :data:`MAX_CONFIG_VALUES` values: a
    "billion laughs" file (aliases of aliases) would take minutes to validate and print. The
    walk stops at the limit, so checking costs at most that many steps."""
    pending, seen = [data], 0
    while pending:
        value = pending.pop()
        seen += 1
        if seen > MAX_CONFIG_VALUES:
            raise ConfigError(
                f"{path}: expands to more than {MAX_CONFIG_VALUES:,} values (YAML aliases "
                "nested in aliases?); write the values out"
            )
        if isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def validate_config(
    raw: Mapping[str, Any],
    origin: str = "config",
    overrides: Iterable[str] | Mapping[str, Any] | None = None,
) -> ExperimentConfig:
    """The validated experiment; a problem is labelled with where its value came from: the
    ``--set KEY=VALUE`` that set it (one of ``overrides``), else ``origin`` (the file)."""
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        problem = first_problem(exc, ExperimentConfig)
        label = override_label(problem.location, overrides) or origin
        raise ConfigError(f"{label}: {problem}") from None


def override_label(location: str, overrides: Iterable[str] | Mapping[str, Any] | None) -> str:
    """``--set train.epochs=3.5`` when an override reaches ``location`` (sets the key itself,
    a section above it or a key below it; the last such override wins), else ""."""
    if overrides is None or not location:
        return ""
    if isinstance(overrides, Mapping):
        given = [(key, f"override {key}={value!r}") for key, value in overrides.items()]
    else:
        given = [(parse_override(text)[0], f"--set {text.strip()}") for text in overrides]
    parts = location.split(".")
    reaching = [
        label
        for key, label in given
        if (key_parts := key.split("."))[: len(parts)] == parts[: len(key_parts)]
    ]
    return reaching[-1] if reaching else ""


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


def flatten_config(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested config sections as ``(dotted.key, value)`` pairs, in file order."""
    if isinstance(value, dict) and value:
        return [
            pair for key, item in value.items() for pair in flatten_config(item, f"{prefix}{key}.")
        ]
    return [(prefix.rstrip("."), value)]


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
