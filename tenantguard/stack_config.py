"""The plain values of a stack's `Pulumi.<stack>.yaml` `config:`, read without the Pulumi CLI.

`secure:` values are encrypted with the stack's secrets provider and cannot be read here:
they are skipped (and listed in `secure_keys`); the commands that need them fall back to
environment variables. Keys without a namespace belong to the project, as in Pulumi.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_FILE = "Pulumi.yaml"


class StackConfigError(ValueError):
    """A Pulumi project or stack file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class StackConfig:
    """The plain config values of one stack (`namespace:key` -> text) and where they came from."""

    stack: str
    path: Path | None
    values: dict[str, str] = field(default_factory=dict)
    secure_keys: tuple[str, ...] = ()


def find_project_dir(start: Path | None = None) -> Path | None:
    """The nearest directory at or above `start` (default: cwd) holding a Pulumi.yaml."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    return None


def project_name(project_dir: Path) -> str | None:
    """The `name:` of the Pulumi project in `project_dir`, or None without a Pulumi.yaml."""
    path = project_dir / PROJECT_FILE
    if not path.is_file():
        return None
    document = _read_yaml(path)
    name = document.get("name") if isinstance(document, Mapping) else None
    if not isinstance(name, str) or not name:
        raise StackConfigError(f"{path}: has no project `name:`; allowed: name: <project>")
    return name


def stack_file(project_dir: Path, stack: str) -> Path:
    """Where Pulumi keeps the stack's settings: `<project_dir>/Pulumi.<stack>.yaml`."""
    return project_dir / f"Pulumi.{stack.rsplit('/', 1)[-1]}.yaml"


def load_stack_config(stack: str, project_dir: Path | None = None) -> StackConfig:
    """The plain config of `stack`; empty (path None) when there is no project or stack file."""
    directory = project_dir if project_dir is not None else find_project_dir()
    if directory is None:
        return StackConfig(stack=stack, path=None)
    path = stack_file(directory, stack)
    if not path.is_file():
        return StackConfig(stack=stack, path=None)
    project = project_name(directory) or directory.name
    return parse_stack_config(_read_yaml(path), stack=stack, project=project, source=path)


def parse_stack_config(document: Any, *, stack: str, project: str, source: Path) -> StackConfig:
    """The plain values of a parsed stack file; `secure:` values skipped and listed."""
    if document is None:
        return StackConfig(stack=stack, path=source)
    if not isinstance(document, Mapping):
        raise StackConfigError(f"{source}: the top level is not a mapping; allowed: config: ...")
    config = document.get("config")
    if config is None:
        return StackConfig(stack=stack, path=source)
    if not isinstance(config, Mapping):
        raise StackConfigError(
            f"{source}: `config:` is not a mapping; allowed: config: {{<namespace>:<key>: value}}"
        )
    values: dict[str, str] = {}
    secure: list[str] = []
    for raw_key, raw_value in config.items():
        key = str(raw_key)
        if ":" not in key:
            key = f"{project}:{key}"
        if _holds_secure(raw_value):
            secure.append(key)
            continue
        text = _as_text(raw_value)
        if text is not None:
            values[key] = text
    return StackConfig(stack=stack, path=source, values=values, secure_keys=tuple(sorted(secure)))


def _holds_secure(value: Any) -> bool:
    if isinstance(value, Mapping):
        if set(value) == {"secure"}:
            return True
        return any(_holds_secure(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_secure(item) for item in value)
    return False


def _as_text(value: Any) -> str | None:
    """A config value as Pulumi hands it to a program: text, with objects as JSON."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, default=str)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise StackConfigError(f"{path}: is not UTF-8 text") from None
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise StackConfigError(f"{where}: not valid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise StackConfigError(f"{path}: not valid YAML: {exc}") from None
