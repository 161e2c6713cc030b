"""Read a stack spec file into a validated `PlatformSpec`, or raise `SpecError` with every problem.

Problems come in three passes, all reported together: the YAML itself (syntax,
duplicate keys, non-text keys, secrets), the schema (pydantic, in YAML words), and,
once the schema passes, the rules across sections (quotas under ceilings, registries,
namespaces, roles, policies). Line numbers come from PyYAML's composed nodes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from components.tenancy.validation import PolicyChecker
from stacks.errors import SECRET_ADVICE, SpecError, SpecProblem, translate_all
from stacks.limits import MAX_SPEC_BYTES, LimitExceeded, check_events
from stacks.schema_guide import allowed_keys
from stacks.secret_shapes import find_credential
from stacks.section_rules import section_problems
from stacks.spec import PlatformSpec, looks_like_secret_key

STACKS_DIRECTORY = Path(__file__).resolve().parent
"""Where `load` looks for `<stack>.yaml` unless told otherwise: next to this module."""

STACK_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
STACK_NAME_RULE = (
    "lowercase letters, digits, '.', '_' and '-', starting with a letter or digit "
    "(the file is <stack>.yaml in the stacks directory)"
)
TOP_LEVEL = "a mapping with keys " + ", ".join(allowed_keys(PlatformSpec))

CROSS_CHECKS_PENDING = (
    "Once these are fixed, the rules across sections run too (quota ceilings, registries, "
    "namespaces, roles, labels, policies)."
)

_STR_TAG = "tag:yaml.org,2002:str"
_NOT_SECRET_TAGS = frozenset({"tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"})


def display_name(path: Path) -> str:
    """The file as a person would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def available_stacks(directory: Path) -> list[str]:
    """The stack names that have a spec file in `directory`, sorted."""
    if not directory.is_dir():
        return []
    return sorted(
        p.stem for p in directory.glob("*.yaml") if p.is_file() and STACK_NAME.fullmatch(p.stem)
    )


def load(stack_name: str, *, directory: str | Path | None = None) -> PlatformSpec:
    """The validated spec of `stack_name`, read from `<directory>/<stack_name>.yaml`.

    `directory` defaults to the `stacks/` package directory. Raises SpecError for a bad
    stack name, a missing file, or any problem in the spec.
    """
    folder = Path(directory) if directory is not None else STACKS_DIRECTORY
    if not isinstance(stack_name, str) or not STACK_NAME.fullmatch(stack_name):
        raise SpecError(
            [
                SpecProblem(
                    display_name(folder),
                    "",
                    None,
                    f"stack name {stack_name!r} is not allowed; allowed: {STACK_NAME_RULE}",
                )
            ]
        )
    path = folder / f"{stack_name}.yaml"
    if not path.is_file():
        stacks = available_stacks(folder)
        known = ", ".join(stacks) if stacks else f"none yet (no <stack>.yaml in {folder})"
        raise SpecError(
            [
                SpecProblem(
                    display_name(path),
                    "",
                    None,
                    f"there is no spec for stack {stack_name!r}; allowed: a stack with a spec "
                    f"file: {known}",
                )
            ]
        )
    return load_file(path)


def load_file(path: str | Path) -> PlatformSpec:
    """The validated spec in the YAML file at `path`; raises SpecError with every problem."""
    file = Path(path)
    shown = display_name(file)
    document = _parse(_read(file, shown), shown)
    found: list[tuple[str, int | None, str]] = list(document.problems)
    claimed = set(document.claimed)
    spec: PlatformSpec | None = None
    try:
        spec = PlatformSpec.model_validate(document.data, by_alias=True, by_name=False)
    except ValidationError as exc:
        for at, message in translate_all(exc):
            if at not in claimed:
                found.append((at, document.line_of(at), message))
    if spec is not None:
        for problem in section_problems(spec, check_policy=_library_policy_checker()):
            if problem.path not in claimed:
                found.append((problem.path, document.line_of(problem.path), problem.message))
    if found:
        ordered = sorted(found, key=lambda item: item[1] or 0)
        raise SpecError(
            (SpecProblem(shown, at, line, message) for at, line, message in ordered),
            note=None if spec is not None else CROSS_CHECKS_PENDING,
        )
    assert spec is not None
    return spec


def _library_policy_checker() -> PolicyChecker:
    """The policy library's parameter validator, imported only when a spec is checked."""
    from components.policies import validate_parameters

    def check(name: str, parameters: Mapping[str, object]) -> None:
        validate_parameters(name, dict(parameters))

    return check


def _read(file: Path, shown: str) -> str:
    """The file's text, read no further than one byte past MAX_SPEC_BYTES."""
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_SPEC_BYTES + 1)
        if len(raw) > MAX_SPEC_BYTES:
            raise SpecError(
                [
                    SpecProblem(
                        shown,
                        "",
                        1,
                        f"the file is larger than {MAX_SPEC_BYTES:,} bytes; allowed: a spec "
                        f"of at most {MAX_SPEC_BYTES // (1024 * 1024)} MiB (a 1,000-project "
                        "spec is about 0.5 MiB)",
                    )
                ]
            )
        return raw.decode("utf-8")
    except FileNotFoundError:
        stacks = ", ".join(available_stacks(file.parent)) or "none"
        message = f"no such file; allowed: an existing spec file (stacks there: {stacks})"
    except UnicodeDecodeError as exc:
        message = f"is not UTF-8 text (byte {exc.start}); allowed: a UTF-8 YAML file"
    except OSError as exc:
        message = f"cannot be read ({exc.strerror or exc}); allowed: a readable YAML file"
    raise SpecError([SpecProblem(shown, "", None, message)])


@dataclass
class _Document:
    """A parsed spec: its data, the line of every path in it, and YAML-level problems."""

    data: object
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)

    def line_of(self, path: str) -> int | None:
        """The line of `path`, or of its closest parent present in the file."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""

    def report(self, path: str, line: int, message: str, *, claim: bool = False) -> None:
        self.problems.append((path, line, message))
        if claim:
            self.claimed.add(path)


def _parse(text: str, shown: str) -> _Document:
    loader: yaml.CSafeLoader | None = None
    try:
        check_events(text)
        loader = yaml.CSafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            raise SpecError([SpecProblem(shown, "", 1, f"the file is empty; allowed: {TOP_LEVEL}")])
        if not isinstance(node, MappingNode):
            kind = "a list" if isinstance(node, SequenceNode) else "a single value"
            raise SpecError(
                [
                    SpecProblem(
                        shown,
                        "",
                        node.start_mark.line + 1,
                        f"the top level is {kind}, not a mapping; allowed: {TOP_LEVEL}",
                    )
                ]
            )
        document = _Document(data=None, lines={"": node.start_mark.line + 1})
        _walk(node, "", document, set())
        document.data = loader.construct_document(node)
        return document
    except LimitExceeded as exc:
        raise SpecError([SpecProblem(shown, exc.path, exc.line, exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or "the text is not valid YAML"
        if "'\\t'" in what or _tab_at(text, mark):
            what += " (a tab: YAML indents with spaces only)"
        if exc.context:
            what = f"{what} ({exc.context}"
            if exc.context_mark is not None and exc.context_mark is not mark:
                what += f" at line {exc.context_mark.line + 1}"
            what += ")"
        raise SpecError(
            [
                SpecProblem(
                    shown,
                    "",
                    mark.line + 1 if mark is not None else None,
                    f"YAML syntax error: {what}; allowed: valid YAML (check the indentation, "
                    "the quoting and the ':' after each key)",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(
            [SpecProblem(shown, "", None, f"YAML error: {exc}; allowed: valid YAML")]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()


def _tab_at(text: str, mark: yaml.Mark | None) -> bool:
    """Whether the line of a syntax error holds a tab (libyaml does not say so itself)."""
    if mark is None:
        return False
    lines = text.splitlines()
    return 0 <= mark.line < len(lines) and "\t" in lines[mark.line]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(node: Node, path: str, document: _Document, active: set[int]) -> None:
    """Record every path's line and report duplicate keys, non-text keys and secrets."""
    if id(node) in active:  # a recursive alias: already being walked
        return
    active.add(id(node))
    if isinstance(node, MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                _walk(value_node, path, document, active)
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR_TAG:
                raw = key_node.value if isinstance(key_node, ScalarNode) else "(a collection)"
                at = _join(path, str(raw))
                document.report(
                    at,
                    line,
                    f"key {raw!r} is not text (YAML reads unquoted on, off, yes, no, numbers "
                    f"and null as other types); allowed: text keys, so quote it: '{raw}':",
                    claim=True,
                )
                continue
            key = key_node.value
            at = _join(path, key)
            if key in first_seen:
                document.report(
                    at,
                    line,
                    f"duplicate key {key!r} (first at line {first_seen[key]}); YAML would "
                    "silently keep only the last one; allowed: each key once per mapping",
                )
            else:
                first_seen[key] = line
                document.lines.setdefault(at, line)
            if (
                looks_like_secret_key(key)
                and isinstance(value_node, ScalarNode)
                and value_node.tag not in _NOT_SECRET_TAGS
                and value_node.value != ""
            ):
                document.report(
                    at, line, f"key {key!r} looks like a secret; {SECRET_ADVICE}", claim=True
                )
            _walk(value_node, at, document, active)
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            at = f"{path}[{index}]"
            document.lines.setdefault(at, item.start_mark.line + 1)
            _walk(item, at, document, active)
    elif isinstance(node, ScalarNode) and node.tag == _STR_TAG and path not in document.claimed:
        found = find_credential(node.value)
        if found is not None:
            document.report(
                path,
                _line_in_scalar(node, found.offset),
                f"holds what looks like {found.kind}; {SECRET_ADVICE} (and rotate it: it "
                "has been in a file)",
                claim=True,
            )
    active.discard(id(node))


def _line_in_scalar(node: ScalarNode, offset: int) -> int:
    """The file line of a character in a scalar: block scalars start on the next line."""
    line = node.start_mark.line + 1
    if node.style in ("|", ">"):
        return line + 1 + node.value.count("\n", 0, offset)
    return line
