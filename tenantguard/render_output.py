"""The render's output directory: written whole into a temporary sibling, then swapped in.

A render never edits its output in place. Every file is written into a hidden sibling
directory first; only when all of them are written is the sibling renamed over the
output, so a render that fails at any point (a file name the filesystem refuses, a full
disk) leaves the previous output byte-identical and the next render needs no cleanup.
The output directory is marked with `.tenantguard-render`, which lists what the render
wrote; files it does not list (a reviewer's notes) are carried over, and a non-empty
directory without the marker is never touched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MARKER_NAME = ".tenantguard-render"
MARKER_HEADER = (
    "# Written by `tenantguard render`. The next render replaces exactly the files listed\n"
    "# below and keeps the others; remove this file to keep the directory from being reused.\n"
)


class RenderError(Exception):
    """A render that cannot proceed; the message says why and what to do (exit status 1)."""


@dataclass(frozen=True)
class RenderedFile:
    """One output file: its path relative to the output directory (POSIX) and its text."""

    path: str
    content: str


def listed_paths(directory: Path) -> list[str]:
    """The files the marker in `directory` says the last render wrote."""
    text = (directory / MARKER_NAME).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def relative_parts(relative: str) -> tuple[str, ...] | None:
    """The parts of a relative POSIX path that names something below its directory; None for
    an absolute path, one with '..', or an empty one."""
    candidate = PurePosixPath(relative)
    if candidate.is_absolute() or ".." in candidate.parts or not candidate.parts:
        return None
    return candidate.parts


def check_target(directory: Path) -> None:
    """Refuse a target that is a file or symlink, or a non-empty directory without the marker."""
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise RenderError(f"{directory} exists and is not a directory; choose another --out")
    if directory.is_dir() and not (directory / MARKER_NAME).is_file() and any(directory.iterdir()):
        raise RenderError(
            f"{directory} is not empty and was not written by `tenantguard render` "
            f"(no {MARKER_NAME} file); refusing to overwrite it: choose another --out "
            "or empty the directory"
        )


def _write_tree(directory: Path, files: Iterable[RenderedFile]) -> list[str]:
    """Write `files` into `directory`, a fresh staging directory this render made.

    Nothing else writes there and the render makes no symlinks, so a path without '..'
    cannot leave it: the check is lexical, and each directory is made once.
    """
    written: list[str] = []
    made: set[str] = set()
    root = os.fspath(directory)
    for item in files:
        parts = relative_parts(item.path)
        if parts is None:
            raise RenderError(f"refusing to write {item.path!r} outside {directory}")
        folder = os.path.join(root, *parts[:-1])
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        with open(os.path.join(folder, parts[-1]), "w", encoding="utf-8", newline="\n") as out:
            out.write(item.content)
        written.append(item.path)
    lines = MARKER_HEADER + "".join(f"{path}\n" for path in sorted(written))
    (directory / MARKER_NAME).write_text(lines, encoding="utf-8", newline="\n")
    return written


def _carry_over(old: Path, new: Path) -> None:
    """Move the files of `old` that no render wrote (and the new one does not) into `new`."""
    listed = {PurePosixPath(p) for p in listed_paths(old)} | {PurePosixPath(MARKER_NAME)}
    for path in sorted(old.rglob("*")):
        relative = PurePosixPath(path.relative_to(old).as_posix())
        if (path.is_dir() and not path.is_symlink()) or relative in listed:
            continue
        destination = new.joinpath(*relative.parts)
        if destination.exists() or destination.is_symlink():
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination, follow_symlinks=False)


def replace_directory(directory: Path, files: Iterable[RenderedFile]) -> list[str]:
    """Write `files` into a sibling of `directory`, then swap it in; the paths written.

    On any failure the sibling is removed and `directory` is as it was.
    """
    check_target(directory)
    parent = directory.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.rendering-", dir=parent))
    try:
        written = _write_tree(staging, files)
        if directory.is_dir():
            if (directory / MARKER_NAME).is_file():
                _carry_over(directory, staging)
            retired = Path(tempfile.mkdtemp(prefix=f".{directory.name}.previous-", dir=parent))
            os.replace(directory, retired / directory.name)
            try:
                os.replace(staging, directory)
            except OSError:
                os.replace(retired / directory.name, directory)
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, directory)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        failed = str(exc.filename or "")
        shown = failed[len(str(staging)) + 1 :] if failed.startswith(str(staging)) else failed
        raise RenderError(
            f"could not write the render into {directory}: {exc.strerror or exc}"
            f"{f' ({shown})' if shown else ''}; the previous output is unchanged"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written
