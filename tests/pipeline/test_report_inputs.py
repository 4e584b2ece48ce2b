"""`culturalign report` on folders that hold no results, a file, or a broken run log:
exit 2 with the path named, and no report written."""

from __future__ import annotations

import subprocess
import sys


def _report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "culturalign", "report", *args], capture_output=True, text=True, timeout=120
    )


def _bad(proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and fragment in proc.stderr, proc.stderr


def test_a_folder_without_results_is_refused(tmp_path):
    _bad(_report(str(tmp_path)), f"{tmp_path}: no results to report")
    assert list(tmp_path.iterdir()) == []  # it used to write an empty report.html and report.md here


def test_a_file_instead_of_a_run_directory(tmp_path):
    f = tmp_path / "summary.json"
    f.write_text("{}")
    _bad(_report(str(f)), f"{f}: is a file; give the run directory that holds it")


def test_a_broken_run_log_is_located_not_skipped(tmp_path):
    rj = tmp_path / "eval" / "run.json"
    rj.parent.mkdir()
    rj.write_text('{"kind": "eval-care",\n  "notes": [}\n')
    _bad(_report(str(tmp_path)), f"{rj}:2: invalid JSON")
    assert not (tmp_path / "report.html").exists()
