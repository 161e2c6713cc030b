"""The `tenantguard` command line: validate and render stacks, browse policies, look at the PCE.

    tenantguard [--debug] [--version] COMMAND ...   (--debug may also follow the command)
    tenantguard validate STACK... | --all [--stacks-dir DIR]     (a STACK may be a file path)
    tenantguard render STACK [--out DIR] [--project-dir DIR] [--stacks-dir DIR]
    tenantguard policies list [--output table|json]
    tenantguard policies show NAME [--param k=v ...] [--api ...] [--namespace NS]
                                   [--failure-action Audit|Enforce]
    tenantguard pce clusters list | clusters get NAME | profiles CLUSTER | labels [--key K]
                    | backends CLUSTER   [--stack STACK] [--output table|json]

Exit status: 0 success, 1 a problem the command found (listed on stderr), 2 a usage error.
`main(argv)` returns the status instead of exiting, so tests can call it in-process.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# ----------------------------------------------------------------------------- validate


def _spec_target(target: str, stacks_dir: str | None) -> tuple[str, Path]:
    """(stack name, spec directory) for a stack name or a spec file path."""
    from stacks.loader import STACKS_DIRECTORY

    if target.endswith((".yaml", ".yml")) or "/" in target:
        path = Path(target)
        return path.stem, path.parent
    return target, Path(stacks_dir) if stacks_dir else STACKS_DIRECTORY


def _validate_one(target: str, stacks_dir: str | None) -> int:
    """Load one stack spec; print OK with its size, or every problem on stderr. The count."""
    from stacks import SpecError, load, load_file
    from stacks.loader import display_name

    stack, folder = _spec_target(target, stacks_dir)
    is_path = target.endswith((".yaml", ".yml")) or "/" in target
    path = Path(target) if is_path else folder / f"{stack}.yaml"
    try:
        spec = load_file(path) if is_path else load(stack, directory=folder)
    except SpecError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        if exc.note:
            print(exc.note, file=sys.stderr)
        count = _plural(len(exc.problems), "problem")
        print(f"FAILED: {display_name(path)} ({count})", file=sys.stderr)
        return len(exc.problems)
    projects = sum(len(tenant.projects) for tenant in spec.tenants)
    print(
        f"OK: {display_name(path)} "
        f"({_plural(len(spec.tenants), 'tenant')}, {_plural(projects, 'project')})"
    )
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Validate each stack given (or every stack with --all); one summary line for several."""
    from stacks.loader import STACKS_DIRECTORY, available_stacks

    targets: list[str] = list(args.stacks)
    if args.all:
        folder = Path(args.stacks_dir) if args.stacks_dir else STACKS_DIRECTORY
        targets += [name for name in available_stacks(folder) if name not in targets]
        if not targets:
            print(f"error: no <stack>.yaml in {folder}", file=sys.stderr)
            return EXIT_FAILED
    if not targets:
        print(f"{args.usage}tenantguard validate: error: give a STACK or --all", file=sys.stderr)
        return EXIT_USAGE
    problems = [_validate_one(target, args.stacks_dir) for target in targets]
    if len(targets) > 1:
        failed = sum(1 for count in problems if count)
        if failed:
            print(
                f"FAILED: {failed} of {_plural(len(targets), 'stack')} "
                f"({_plural(sum(problems), 'problem')})",
                file=sys.stderr,
            )
        else:
            print(f"OK: {_plural(len(targets), 'stack')}")
    return EXIT_FAILED if any(problems) else EXIT_OK


# ------------------------------------------------------------------------------- render


def cmd_render(args: argparse.Namespace) -> int:
    """Render a stack offline into files; print the resource tree and a summary."""
    import pulumi

    from tenantguard.render import RenderError, render_stack
    from tenantguard.stack_config import StackConfigError

    out = Path(args.out) if args.out else None
    project_dir = Path(args.project_dir) if args.project_dir else None
    stack, stacks_dir = args.stack, Path(args.stacks_dir) if args.stacks_dir else None
    if stack.endswith((".yaml", ".yml")):  # a spec file path, as `validate` takes
        stack, stacks_dir = Path(stack).stem, Path(stack).parent
    try:
        result = render_stack(stack, out_dir=out, project_dir=project_dir, stacks_dir=stacks_dir)
    except (RenderError, StackConfigError, pulumi.RunError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # the program failed under mocks: say so without a traceback
        if args.debug:
            raise
        print(
            f"error: rendering stack {args.stack!r} failed: {type(exc).__name__}: {exc} "
            "(rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(result.tree)
    print()
    print(result.summary)
    print(f"Wrote {_plural(len(result.files), 'file')} to {result.out_dir}")
    return EXIT_OK


# ----------------------------------------------------------------------------- policies


def cmd_policies_list(args: argparse.Namespace) -> int:
    from tenantguard.policy_commands import list_policies

    return list_policies(args.output)


def cmd_policies_show(args: argparse.Namespace) -> int:
    from tenantguard.policy_commands import UsageError, show_policy

    try:
        return show_policy(
            args.name,
            args.param or [],
            api=args.api,
            namespace=args.namespace,
            failure_action=args.failure_action,
            output=args.output,
        )
    except UsageError as exc:
        print(f"tenantguard policies show: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


# ---------------------------------------------------------------------------------- pce


def _run_pce(args: argparse.Namespace, command: Callable[..., None]) -> int:
    from tenantguard.pce_commands import PceOptions, run

    options = PceOptions(
        output=args.output,
        stack=args.stack,
        project_dir=Path(args.project_dir) if args.project_dir else None,
    )
    return run(options, command)


def cmd_pce_clusters_list(args: argparse.Namespace) -> int:
    from tenantguard.pce_commands import clusters_list

    return _run_pce(args, clusters_list)


def cmd_pce_clusters_get(args: argparse.Namespace) -> int:
    from tenantguard.pce_commands import clusters_get

    return _run_pce(args, clusters_get(args.name))


def cmd_pce_profiles(args: argparse.Namespace) -> int:
    from tenantguard.pce_commands import profiles

    return _run_pce(args, profiles(args.cluster))


def cmd_pce_labels(args: argparse.Namespace) -> int:
    from tenantguard.pce_commands import labels

    return _run_pce(args, labels(args.key))


def cmd_pce_backends(args: argparse.Namespace) -> int:
    from tenantguard.pce_commands import backends

    return _run_pce(args, backends(args.cluster))


# ------------------------------------------------------------------------------- parser


def _output_option(parser: argparse.ArgumentParser, choices: Sequence[str]) -> None:
    parser.add_argument(
        "--output",
        "-o",
        choices=list(choices),
        default=choices[0],
        help=f"output format (default: {choices[0]})",
    )


def _pce_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    _output_option(parent, ("table", "json"))
    parent.add_argument(
        "--stack",
        help="read illumio:* settings from Pulumi.<STACK>.yaml (plain values; the API secret "
        "comes from ILLUMIO_API_SECRET), then ILLUMIO_* environment variables",
    )
    parent.add_argument(
        "--project-dir",
        help="the Pulumi project directory (default: the nearest one holding Pulumi.yaml)",
    )
    return parent


def _version() -> str:
    """The installed distribution's version (the source tree's when not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tenantguard")
    except PackageNotFoundError:
        return "unknown"


class _Commands:
    """Subcommand registry that gives every subcommand `--debug` too, so it may come last."""

    def __init__(self, action: argparse._SubParsersAction) -> None:
        self._action = action

    @property
    def required(self) -> bool:
        return bool(self._action.required)

    @required.setter
    def required(self, value: bool) -> None:
        self._action.required = value

    def add_parser(self, name: str, **kwargs: object) -> argparse.ArgumentParser:
        """A subcommand parser accepting `--debug`; unset unless given, so the top one stands."""
        parser = self._action.add_parser(name, **kwargs)  # type: ignore[arg-type]
        parser.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
        return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="tenantguard",
        description="Validate and render tenantguard stacks, browse the Kyverno policy "
        "library, and look at the Illumio PCE.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = _Commands(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))

    validate = commands.add_parser(
        "validate", help="check stack specs and list every problem, with one summary line"
    )
    validate.add_argument(
        "stacks", nargs="*", metavar="STACK", help="stack names or spec file paths"
    )
    validate.add_argument("--all", action="store_true", help="every <STACK>.yaml in the folder")
    validate.add_argument(
        "--stacks-dir", help="directory holding <STACK>.yaml (default: the stacks package)"
    )
    validate.set_defaults(handler=cmd_validate, usage=validate.format_usage())

    render = commands.add_parser(
        "render", help="run the program offline and write every manifest and payload to files"
    )
    render.add_argument("stack", metavar="STACK", help="stack name (or a spec file path)")
    render.add_argument("--out", help="output directory (default: ./render/<STACK>)")
    render.add_argument(
        "--project-dir",
        help="the Pulumi project directory holding Pulumi.<STACK>.yaml "
        "(default: the nearest one holding Pulumi.yaml)",
    )
    render.add_argument(
        "--stacks-dir", help="directory holding the spec <STACK>.yaml (default: the stacks package)"
    )
    render.set_defaults(handler=cmd_render)

    policies = commands.add_parser("policies", help="the Kyverno policy catalogue")
    policy_commands = _Commands(
        policies.add_subparsers(dest="policies_command", metavar="SUBCOMMAND")
    )
    policy_commands.required = True
    listing = policy_commands.add_parser("list", help="list the policy templates")
    _output_option(listing, ("table", "json"))
    listing.set_defaults(handler=cmd_policies_list)
    show = policy_commands.add_parser("show", help="render one policy template")
    show.add_argument("name", metavar="NAME", help="template name (see `policies list`)")
    show.add_argument(
        "--param",
        "-p",
        action="append",
        metavar="KEY=VALUE",
        help="a template parameter; lists as a,b,c or [a, b] or the key repeated",
    )
    show.add_argument(
        "--api", choices=["validatingpolicy", "clusterpolicy"], default="validatingpolicy"
    )
    show.add_argument("--namespace", help="render the namespaced variant for this namespace")
    show.add_argument("--failure-action", choices=["Audit", "Enforce"], default="Audit")
    _output_option(show, ("yaml", "json"))
    show.set_defaults(handler=cmd_policies_show)

    pce = commands.add_parser("pce", help="read-only looks at the Illumio PCE")
    pce_commands = _Commands(pce.add_subparsers(dest="pce_command", metavar="SUBCOMMAND"))
    pce_commands.required = True
    parent = _pce_parent()
    clusters = pce_commands.add_parser("clusters", help="container clusters")
    cluster_commands = _Commands(
        clusters.add_subparsers(dest="clusters_command", metavar="SUBCOMMAND")
    )
    cluster_commands.required = True
    clusters_list = cluster_commands.add_parser(
        "list", parents=[parent], help="list container clusters"
    )
    clusters_list.set_defaults(handler=cmd_pce_clusters_list)
    clusters_get = cluster_commands.add_parser(
        "get", parents=[parent], help="one container cluster, by exact name or href"
    )
    clusters_get.add_argument("name", metavar="NAME", help="exact cluster name, or its href")
    clusters_get.set_defaults(handler=cmd_pce_clusters_get)
    profiles = pce_commands.add_parser(
        "profiles", parents=[parent], help="a cluster's container workload profiles"
    )
    profiles.add_argument("cluster", metavar="CLUSTER", help="cluster name or href")
    profiles.set_defaults(handler=cmd_pce_profiles)
    labels = pce_commands.add_parser("labels", parents=[parent], help="labels")
    labels.add_argument("--key", help="only labels with exactly this key (e.g. env)")
    labels.set_defaults(handler=cmd_pce_labels)
    backends = pce_commands.add_parser(
        "backends", parents=[parent], help="a cluster's service backends"
    )
    backends.add_argument("cluster", metavar="CLUSTER", help="cluster name or href")
    backends.set_defaults(handler=cmd_pce_backends)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status (0 ok, 1 failed, 2 usage)."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `tenantguard render dev | head`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
