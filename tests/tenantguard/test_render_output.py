"""The render's output directory: replaced whole on success, untouched by any failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenantguard.render import _segment
from tenantguard.render_output import MARKER_NAME, RenderedFile, RenderError, replace_directory


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


FIRST = [RenderedFile("a/one.yaml", "one: 1\n"), RenderedFile("two.json", "{}\n")]


def test_a_new_directory_gets_the_files_and_the_marker(tmp_path: Path) -> None:
    target = tmp_path / "out"
    assert replace_directory(target, FIRST) == ["a/one.yaml", "two.json"]
    assert set(snapshot(target)) == {"a/one.yaml", "two.json", MARKER_NAME}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_write_that_fails_midway_leaves_the_previous_output_byte_identical(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out"
    replace_directory(target, FIRST)
    before = snapshot(target)
    broken = [RenderedFile("a/one.yaml", "changed\n"), RenderedFile("b/" + "x" * 300, "")]
    with pytest.raises(RenderError) as info:
        replace_directory(target, broken)
    assert "File name too long" in str(info.value)
    assert "the previous output is unchanged" in str(info.value)
    assert snapshot(target) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging left behind
    replace_directory(target, [RenderedFile("three.txt", "3\n")])  # and no cleanup needed
    assert set(snapshot(target)) == {"three.txt", MARKER_NAME}


@pytest.mark.parametrize("escape", ["../evil.yaml", "/tmp/evil.yaml", "a/../../evil.yaml", ""])
def test_a_path_leaving_the_output_is_refused_and_nothing_changes(
    tmp_path: Path, escape: str
) -> None:
    target = tmp_path / "out"
    replace_directory(target, FIRST)
    before = snapshot(target)
    with pytest.raises(RenderError, match="refusing to write"):
        replace_directory(
            target, [RenderedFile("a/one.yaml", "changed\n"), RenderedFile(escape, "x")]
        )
    assert snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing written beside it


def test_a_file_where_a_directory_must_go_is_a_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "out"
    replace_directory(target, FIRST)
    before = snapshot(target)
    clash = [RenderedFile("a", "file\n"), RenderedFile("a/b.yaml", "b\n")]
    with pytest.raises(RenderError, match="the previous output is unchanged"):
        replace_directory(target, clash)
    assert snapshot(target) == before


def test_files_no_render_wrote_are_carried_over(tmp_path: Path) -> None:
    target = tmp_path / "out"
    replace_directory(target, FIRST)
    (target / "notes.txt").write_text("keep me")
    replace_directory(target, [RenderedFile("two.json", "[]\n")])
    assert snapshot(target) == {
        "notes.txt": b"keep me",
        "two.json": b"[]\n",
        MARKER_NAME: (target / MARKER_NAME).read_bytes(),
    }


def test_a_directory_of_someone_else_is_refused_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(RenderError, match="is not empty and was not written"):
        replace_directory(target, FIRST)
    assert snapshot(target) == {"notes.txt": b"mine"}


def test_file_name_segments_are_bounded_and_stay_distinct() -> None:
    long_a, long_b = "label-env-" + "a" * 300, "label-env-" + "a" * 299 + "b"
    assert len(_segment(long_a)) == 96
    assert _segment(long_a) != _segment(long_b)
    assert _segment("Label-label-env-dev") == "Label-label-env-dev"
