"""The `tenantguard` command line: validate and render stacks, browse policies, look at the PCE.

    tenantguard validate STACK [--stacks-dir DIR]
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


def cmd_validate(args: argparse.Namespace) -> int:
    """Load one stack spec; print OK with its size, or every problem on stderr."""
    from stacks import SpecError, load, load_file
    from stacks.loader import STACKS_DIRECTORY, display_name

    target: str = args.stack
    try:
        if target.endswith((".yaml", ".yml")) or "/" in target:
            path = Path(target)
            spec = load_file(path)
        else:
            folder = Path(args.stacks_dir) if args.stacks_dir else STACKS_DIRECTORY
            path = folder / f"{target}.yaml"
            spec = load(target, directory=folder)
    except SpecError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        if exc.note:
            print(exc.note, file=sys.stderr)
        count = _plural(len(exc.problems), "problem")
        print(f"FAILED: {display_name(path)} ({count})", file=sys.stderr)
        return EXIT_FAILED
    projects = sum(len(tenant.projects) for tenant in spec.tenants)
    print(
        f"OK: {display_name(path)} "
        f"({_plural(len(spec.tenants), 'tenant')}, {_plural(projects, 'project')})"
    )
    return EXIT_OK


# ------------------------------------------------------------------------------- render


def cmd_render(args: argparse.Namespace) -> int:
    """Render a stack offline into files; print the resource tree and a summary."""
    import pulumi

    from tenantguard.render import RenderError, render_stack
    from tenantguard.stack_config import StackConfigError

    out = Path(args.out) if args.out else None
    project_dir = Path(args.project_dir) if args.project_dir else None
    stacks_dir = Path(args.stacks_dir) if args.stacks_dir else None
    try:
        result = render_stack(
            args.stack, out_dir=out, project_dir=project_dir, stacks_dir=stacks_dir
        )
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="tenantguard",
        description="Validate and render tenantguard stacks, browse the Kyverno policy "
        "library, and look at the Illumio PCE.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of failures")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = commands.add_parser("validate", help="check a stack spec and list every problem")
    validate.add_argument("stack", metavar="STACK", help="stack name (or a spec file path)")
    validate.add_argument(
        "--stacks-dir", help="directory holding <STACK>.yaml (default: the stacks package)"
    )
    validate.set_defaults(handler=cmd_validate)

    render = commands.add_parser(
        "render", help="run the program offline and write every manifest and payload to files"
    )
    render.add_argument("stack", metavar="STACK", help="stack name")
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
    policy_commands = policies.add_subparsers(dest="policies_command", metavar="SUBCOMMAND")
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
    pce_commands = pce.add_subparsers(dest="pce_command", metavar="SUBCOMMAND")
    pce_commands.required = True
    parent = _pce_parent()
    clusters = pce_commands.add_parser("clusters", help="container clusters")
    cluster_commands = clusters.add_subparsers(dest="clusters_command", metavar="SUBCOMMAND")
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
