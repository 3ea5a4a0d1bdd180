"""One message for every validation error: ``{where}{location}: {message}``.

The experiment loader, the ``compare.models`` and ``tune.space`` entries, the augmentation and
sampling options and the data-source options all report their first problem through
:func:`format_validation_error`: the dotted key path (``train.optimizer.lr``,
``data.augment[0].shift.max``), then what was expected and what was found; an unknown key gets
the closest valid key and the list of valid keys. Torch-free.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from gradwise.errors import did_you_mean


@dataclass(frozen=True)
class Problem:
    """The first problem of a validation: where it is and what is wrong."""

    location: str  # dotted key path, e.g. "train.optimizer.lr"; "" for the whole document
    message: str  # what was expected and what was found, e.g. "must be greater than 0, got -1"

    def __str__(self) -> str:
        return f"{self.location or 'config'}: {self.message}"


class NestedProblem(ValueError):
    """Raised by a validator that checked part of its section itself (an entry of
    ``compare.models``, of ``tune.space``, ``data.options``): the problem's location is relative
    to the section, and the formatter joins it to the section's own path."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def format_validation_error(exc: ValidationError, root: Any, where: str = "") -> str:
    """The first problem of ``exc`` as one line: ``{where}{location}: {message}``.

    ``root`` is what was validated (a model class or an annotation such as the model union), so
    unknown keys can be matched against the valid ones; ``where`` is its own key path.
    """
    return str(first_problem(exc, root, where))


def first_problem(exc: ValidationError, root: Any, where: str = "") -> Problem:
    errors = exc.errors(include_url=False)
    paths = [_walk(root, error["loc"], error["type"]) for error in errors]
    first_path, parent = paths[0]
    # a union reports one error per member at the same key: say what each member wanted
    same_key = [error for error, (path, _) in zip(errors, paths, strict=True) if path == first_path]
    error = same_key[0]
    location = _join(where, ".".join(str(part) for part in first_path))
    kind, value, context = error["type"], error.get("input"), error.get("ctx", {})
    nested = context.get("error")
    if isinstance(nested, NestedProblem):
        return Problem(_join(location, nested.problem.location), nested.problem.message)
    if kind == "extra_forbidden":
        valid = list(parent.model_fields) if _is_model(parent) else []
        accepted = f"valid keys here: {', '.join(valid)}" if valid else "no keys are accepted here"
        hint = did_you_mean(str(first_path[-1]), valid)
        return Problem(location, f"unknown key{hint}; {accepted}")
    if kind == "missing":
        return Problem(location, "missing required key")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = _join(location, str(context.get("discriminator", "kind")).strip("'"))
        if kind == "union_tag_not_found":
            return Problem(key, "missing required key")
        tags = re.findall(r"'([^']*)'", context.get("expected_tags", ""))
        tag = str(context.get("tag"))
        return Problem(key, f"must be {_one_of(tags)}, got {tag!r}{did_you_mean(tag, tags)}")
    messages = [same["msg"] for same in same_key]
    notes: list[str] = []
    if not isinstance(value, dict):
        # "Input should be a valid integer, got a number with a fractional part": pydantic
        # already says what it got; that becomes a note on the value, not a second "got"
        notes = [match[1] for m in messages if _pydantic_own(m) and (match := _GOT.search(m))]
        messages = [_GOT.sub("", m) if _pydantic_own(m) else m for m in messages]
    expected = _expected(messages)
    note = f" ({'; '.join(dict.fromkeys(notes))})" if notes else ""
    said = any(", got " in m for m in messages)  # a validator's own "..., got 0"
    got = "" if isinstance(value, dict) or said else f", got {value!r}{note}"
    hint = ""
    if kind == "literal_error":
        hint = did_you_mean(str(value), re.findall(r"'([^']*)'", context.get("expected", "")))
    return Problem(location, f"{expected}{got}{hint}")


_GOT = re.compile(r", got ([^'\"]*)$")  # pydantic's own ", got <what>" (never a quoted value)
VALIDATOR_PREFIXES = ("Value error, ", "Assertion failed, ")  # a validator's own message


def _pydantic_own(message: str) -> bool:
    return not message.startswith(VALIDATOR_PREFIXES)


def _expected(messages: list[str]) -> str:
    """pydantic's messages as one requirement: "Input should be a valid integer" → "must be a
    valid integer"; a validator's own message is kept; a union's members are joined by "or"."""
    requirements: list[str] = []
    for message in messages:
        if message.startswith(VALIDATOR_PREFIXES):
            requirement = message.split(", ", 1)[1]
        else:  # "Input should be ...", "String should have ...", "List should have ..."
            requirement = re.sub(r"^\w+ should ", "must ", message)
        if requirement not in requirements:
            requirements.append(requirement)
    if len(requirements) > 1 and all(r.startswith("must be ") for r in requirements):
        return "must be " + " or ".join(r.removeprefix("must be ") for r in requirements)
    return " or ".join(requirements)


def _join(where: str, location: str) -> str:
    return f"{where}.{location}" if where and location else where or location


def _one_of(choices: list[str]) -> str:
    quoted = [f"'{choice}'" for choice in choices]
    return " or ".join([", ".join(quoted[:-1]), quoted[-1]]) if len(quoted) > 1 else "".join(quoted)


# ------------------------------------------------------------------------ error locations
def _walk(root: Any, loc: tuple[Any, ...], kind: str) -> tuple[tuple[Any, ...], Any]:
    """The key path of an error location, without pydantic's markers (union members,
    validator names, ``int``...), and the section that holds its last key.

    ``loc`` is e.g. ``('model', 'cnn1d', 'chanels')`` → ``(('model', 'chanels'), CNN1dConfig)``.
    """
    node, parent = _unwrap(root), None
    path: list[Any] = []
    for index, part in enumerate(loc):
        parent = node
        if _is_model(node):
            fields = node.model_fields
            if part in fields:
                path.append(part)
                node = _unwrap(fields[part].annotation)
            elif kind == "extra_forbidden" and index == len(loc) - 1:
                path.append(part)  # the unknown key itself
            continue
        origin = typing.get_origin(node)
        if isinstance(part, int) and origin in (list, tuple, set, frozenset):
            path.append(part)
            node = _unwrap(typing.get_args(node)[0])
        elif origin is dict:
            path.append(part)
            node = _unwrap(typing.get_args(node)[1])
        elif isinstance(part, int):
            path.append(part)
        else:  # a union member: follow it when it is a section, else a marker to drop
            node = _member(node, part) or node
    return tuple(path), parent


def _unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` → X, ``X | None`` → X; other unions are kept."""
    if typing.get_origin(annotation) is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if _is_union(annotation):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return annotation


def _member(union: Any, tag: Any) -> Any:
    """The section of ``union`` that pydantic names ``tag`` in locations: its ``kind``-like
    literal (discriminated unions) or its class name."""
    if not _is_union(union):
        return None
    for member in typing.get_args(union):
        if not _is_model(member):
            continue
        tags = [
            field.default
            for field in member.model_fields.values()
            if typing.get_origin(field.annotation) is typing.Literal
        ]
        if tag == member.__name__ or tag in tags:
            return member
    return None


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _is_model(cls: Any) -> bool:
    return isinstance(cls, type) and issubclass(cls, BaseModel)
