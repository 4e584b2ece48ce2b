"""Bad paths on any command end the same way: exit 2, ``PATH: what is wrong``, no traceback.

These cover the failure classes shared by every command (outputs inside a file or onto
a folder, missing inputs read through ``io``); each runs the real CLI in a subprocess
and loads no model.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from culturalign.errors import DataError, path_error
from culturalign.io import atomic_write_text, read_records
from culturalign.paths import package_data
from culturalign.records import CulturalQuestion

SAMPLE = package_data("data", "sample")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "culturalign", *args], capture_output=True, text=True, env=env, timeout=120
    )


def assert_bad_input(proc: subprocess.CompletedProcess, *expected: str) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "Traceback" not in out, out
    for fragment in expected:
        assert fragment in out, f"{fragment!r} not in:\n{out}"
    return out


@pytest.fixture()
def a_file(tmp_path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_text("not a folder\n", encoding="utf-8")
    return path


def test_output_folder_inside_a_file(a_file):
    out = a_file / "split"
    assert_bad_input(
        run_cli("data", "split", str(SAMPLE / "care_questions.jsonl"), "--out", str(out)),
        f"{out}: not a folder, or inside a file",
    )


def test_output_file_is_a_folder(tmp_path):
    folder = tmp_path / "pairs"
    folder.mkdir()
    assert_bad_input(
        run_cli("data", "pairs", str(SAMPLE / "care_prefs.jsonl"), "--out", str(folder)),
        f"{folder}: is a folder; a file was expected here",
    )
    assert list(folder.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir()] == ["pairs"]  # no temporary file left beside it


def test_output_beside_a_file_of_the_same_name(a_file):
    assert_bad_input(
        run_cli("data", "pairs", str(SAMPLE / "care_prefs.jsonl"), "--out", str(a_file / "p.jsonl")),
        f"{a_file}: exists and is not a folder",
    )


def test_missing_input_read_as_records(tmp_path):
    missing = tmp_path / "nope.jsonl"
    assert_bad_input(
        run_cli("synth", "export", "-d", str(missing), "--sft", str(tmp_path / "sft.jsonl")),
        f"{missing}: no such file",
    )


def test_folder_given_for_a_records_file(tmp_path):
    with pytest.raises(DataError, match="is a folder; a file was expected here"):
        read_records(tmp_path, CulturalQuestion)


def test_atomic_write_onto_a_folder_names_the_folder(tmp_path):
    with pytest.raises(IsADirectoryError) as info:
        atomic_write_text(tmp_path, "x")
    assert str(path_error(info.value)) == f"{tmp_path}: is a folder; a file was expected here"


def test_path_error_leaves_pathless_errors_alone():
    assert path_error(OSError(errno.EIO, "I/O error")) is None
    assert (
        str(path_error(PermissionError(errno.EACCES, "Permission denied", "/x"))) == "/x: permission denied"
    )


@pytest.mark.parametrize("limit", ["-1", "0"])
def test_limit_below_one_is_refused_before_any_work(tmp_path, limit):
    # a negative limit used to slice from the end (-1 ran all items but the last)
    out = tmp_path / "r.jsonl"
    args = ["generate", "-d", str(SAMPLE / "care_questions.jsonl"), "-o", str(out), "--limit", limit]
    assert_bad_input(run_cli(*args), "Invalid value for '--limit'")
    assert not out.exists()


def test_templates_must_be_a_folder(tmp_path, a_file):
    # a file here used to become the prompting-mode template itself
    out = tmp_path / "r.jsonl"
    args = [
        "generate",
        "-d",
        str(SAMPLE / "care_questions.jsonl"),
        "-o",
        str(out),
        "--templates",
        str(a_file),
    ]
    assert_bad_input(run_cli(*args), f"{a_file}: --templates needs a folder of template files (is a file)")
    assert not out.exists()


def test_annotation_database_that_is_not_one(tmp_path, a_file):
    questions = str(SAMPLE / "care_questions.jsonl")
    assert_bad_input(
        run_cli("annotate", "import", questions, "--db", str(a_file)),
        f"--db {a_file}: cannot open the annotation database (file is not a database)",
    )
    assert a_file.read_text(encoding="utf-8") == "not a folder\n"
    missing = tmp_path / "typo.sqlite"
    for args in (["export"], ["agreement"], ["users", "list"]):  # reading must not create an empty one
        assert_bad_input(
            run_cli("annotate", *args, "--db", str(missing)), f"--db {missing}: no such annotation"
        )
    assert not missing.exists()


def test_unwritable_folder_names_the_file_asked_for(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, dir=None, **kwargs):  # what a read-only folder does (root ignores chmod)
        raise PermissionError(errno.EACCES, "Permission denied", str(Path(dir) / ".x.tmp"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    target = tmp_path / "pairs.jsonl"
    with pytest.raises(PermissionError) as info:
        atomic_write_text(target, "x")
    assert str(path_error(info.value)) == f"{target}: permission denied"


def test_eval_care_reads_system_prompt_files_like_generate(tmp_path):
    # eval care took "@FILE" literally as the system text; generate read the file
    missing = tmp_path / "system.txt"
    args = ["eval", "care", "-d", str(SAMPLE / "care_questions.jsonl"), "-o", str(tmp_path / "run")]
    assert_bad_input(
        run_cli(*args, "--system-prompt", f"@{missing}"), f"--system-prompt: no such file {missing}"
    )
