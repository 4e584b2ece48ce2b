"""``--push-to-hub REPO``: publish what a command just wrote, with a card saying how it was made.

Five commands share this (``data convert``, ``synth export``, ``select``, ``annotate
export``, ``train``). The local files are written first and stay where they are; the push
is one commit to a dataset or model repo holding those files plus a ``README.md`` card
generated from the run: culturalign's version and command line, the SHA-256 of every file
pushed, the settings, and for a trained model its base model and the held-out
preference gap. A card a reader can trust has to come from the run, not be typed by hand.

The Hub is reached through ``huggingface_hub`` (``HfApi.create_repo`` then
``create_commit``), at ``HF_ENDPOINT`` when set (the tests point it at a local stand-in),
with the token from ``HF_TOKEN`` or ``huggingface-cli login``. Failures (no token, a
refused token, offline mode, an unreachable endpoint) are clear errors with exit status 2,
after the local results were saved.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from culturalign import __version__
from culturalign.errors import CulturalignError, MissingDependency
from culturalign.io import fingerprint_file

RepoType = Literal["dataset", "model"]
CARD = "README.md"
# checkpoints are for resuming here, not for users of the pushed model
DEFAULT_IGNORE = ("checkpoints/*", "checkpoint-*/*", "*.lock", ".cache/*")


@dataclass
class PushResult:
    repo_id: str
    repo_type: RepoType
    url: str
    commit: str | None
    files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"pushed {len(self.files)} files to {self.repo_type} repo {self.repo_id}: {self.url}"


def files_to_push(
    path: str | Path | Sequence[str | Path], ignore: tuple[str, ...] = DEFAULT_IGNORE
) -> dict[str, Path]:
    """Repo path → local file: a file by its name, every file under a folder (minus
    ``ignore``), or several files side by side (``synth export``'s SFT and DPO files)."""
    if not isinstance(path, (str, Path)):
        return {name: p for one in path for name, p in files_to_push(one, ignore).items()}
    path = Path(path)
    if path.is_file():
        return {path.name: path}
    if not path.is_dir():
        raise CulturalignError(f"{path}: nothing to push (no such file or folder)")
    out: dict[str, Path] = {}
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).as_posix()
        if p.is_file() and not any(fnmatch.fnmatch(rel, pat) for pat in ignore) and rel != CARD:
            out[rel] = p
    return out


def _looks_like_hub_id(name: str) -> bool:
    return name.count("/") == 1 and not name.startswith((".", "/", "~")) and not Path(name).exists()


def _yaml_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON scalars and lists are valid YAML


def make_card(
    *,
    repo_id: str,
    repo_type: RepoType,
    title: str,
    summary: str,
    files: dict[str, str],
    settings: dict[str, Any] | None = None,
    records: int | None = None,
    base_model: str | None = None,
    gap: dict[str, Any] | None = None,
    command: list[str] | None = None,
) -> str:
    """The README.md card: YAML metadata the Hub indexes, then what a reader needs to trust
    and reproduce the upload. ``files`` maps each pushed path to its SHA-256."""
    meta: dict[str, Any] = {"tags": ["culturalign"]}
    if repo_type == "model":
        meta["library_name"] = "peft" if "adapter_config.json" in files else "transformers"
        if base_model and _looks_like_hub_id(base_model):
            meta["base_model"] = base_model  # the Hub rejects a local path here
    head = ["---", *(f"{k}: {_yaml_value(v)}" for k, v in meta.items()), "---", ""]
    cmd = " ".join(command if command is not None else ["culturalign", *sys.argv[1:]])
    body = [f"# {title}", "", summary, ""]
    if records is not None:
        body += [f"Records: {records}", ""]
    if base_model:
        body += [f"Base model: `{base_model}`", ""]
    if gap:
        before, after = gap.get("before"), gap.get("after")
        line = f"Held-out preference gap (mean chosen − rejected log-probability, {gap.get('n', '?')} pairs):"
        if before is not None and after is not None:
            line += f" {before:.4f} before training, {after:.4f} after ({after - before:+.4f})."
        else:
            line += f" {after if after is not None else before}."
        body += [line, ""]
    body += [
        "## How it was made",
        "",
        f"Written by culturalign {__version__} with:",
        "",
        "```",
        cmd,
        "```",
        "",
    ]
    if settings:
        body += [
            "Settings:",
            "",
            "```json",
            json.dumps(settings, indent=2, sort_keys=True, default=str),
            "```",
            "",
        ]
    body += ["## Files", "", "| file | sha256 |", "| --- | --- |"]
    body += [f"| {name} | `{digest}` |" for name, digest in sorted(files.items())]
    return "\n".join(head + body) + "\n"


def _api(token: str | None):
    try:
        from huggingface_hub import HfApi, constants
    except ImportError:
        raise MissingDependency("huggingface_hub", extra="hub", why="to push to the Hugging Face Hub") from None
    if constants.is_offline_mode():
        raise CulturalignError(
            "--push-to-hub needs the Hugging Face Hub, but offline mode is on (HF_HUB_OFFLINE=1); "
            "the local results were saved; unset HF_HUB_OFFLINE and push again"
        )
    return HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None, token=token)


def push(
    path: str | Path | Sequence[str | Path],
    repo_id: str,
    *,
    repo_type: RepoType,
    title: str,
    summary: str,
    settings: dict[str, Any] | None = None,
    records: int | None = None,
    base_model: str | None = None,
    gap: dict[str, Any] | None = None,
    private: bool = False,
    token: str | None = None,
    ignore: tuple[str, ...] = DEFAULT_IGNORE,
) -> PushResult:
    """Create ``repo_id`` (if new) and commit the file or folder at ``path`` with a card."""
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise CulturalignError(f"--push-to-hub {repo_id!r}: write the repo as OWNER/NAME")
    local = files_to_push(path, ignore)
    if not local:
        raise CulturalignError(f"{path}: nothing to push (the folder holds no files)")
    hashes = {name: fingerprint_file(p) for name, p in local.items()}
    card = make_card(
        repo_id=repo_id, repo_type=repo_type, title=title, summary=summary, files=hashes,
        settings=settings, records=records, base_model=base_model, gap=gap,
    )  # fmt: skip
    api = _api(token)
    from huggingface_hub import CommitOperationAdd

    ops = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(p)) for name, p in local.items()]
    ops.append(CommitOperationAdd(path_in_repo=CARD, path_or_fileobj=card.encode("utf-8")))
    try:
        url = api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        info = api.create_commit(
            repo_id, operations=ops, repo_type=repo_type, commit_message=f"culturalign: {title}"
        )
    except Exception as exc:  # HTTP, auth and connection errors all end the same way for a user
        raise CulturalignError(_explain(exc, repo_id)) from None
    return PushResult(repo_id, repo_type, str(url), getattr(info, "oid", None), [*local, CARD])


def _explain(exc: Exception, repo_id: str) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    reason = " ".join(str(exc).split())[:300]
    where = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    if status in (401, 403):
        hint = "the token was refused; set HF_TOKEN to a token with write access (or run `hf auth login`)"
    elif status is None:
        hint = f"could not reach {where}"
    else:
        hint = f"the Hub answered HTTP {status}"
    return (
        f"could not push to {repo_id}: {hint} ({type(exc).__name__}: {reason}); the local results were saved"
    )


def push_data(
    path: str | Path | Sequence[str | Path],
    repo_id: str,
    *,
    title: str,
    summary: str,
    records: int | None = None,
    settings: dict[str, Any] | None = None,
    source: str | Path | None = None,
    token: str | None = None,
) -> PushResult:
    """A dataset repo from a command's output (a JSONL/Parquet file or a datasets folder).
    ``source`` is the input it was made from; a local input file's SHA-256 joins the card."""
    settings = dict(settings or {})
    if source is not None:
        settings["input"] = str(source)
        if Path(source).is_file():
            settings["input_sha256"] = fingerprint_file(Path(source))
    return push(
        path, repo_id, repo_type="dataset", title=title, summary=summary,
        settings=settings, records=records, token=token,
    )  # fmt: skip


def push_training(out_dir: str | Path, repo_id: str, *, token: str | None = None) -> PushResult:
    """A model repo from a finished ``train`` folder (adapter or merged weights), its card
    built from the folder's manifest: method, base model, data fingerprint, the resolved
    config and the held-out gap before and after. Checkpoints stay local."""
    out_dir = Path(out_dir)
    manifest_file = out_dir / "culturalign-train.json"
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise CulturalignError(
            f"{manifest_file}: no readable training manifest; is {out_dir} a train output?"
        ) from None
    result = manifest.get("result") or {}
    if manifest.get("status") != "finished" or not result:
        raise CulturalignError(
            f"{out_dir}: the run is not finished (status {manifest.get('status')!r}); nothing pushed"
        )
    before, after = result.get("gap_before"), result.get("gap_after")
    gap = None
    if before and after:
        gap = {"before": before["gap"], "after": after["gap"], "n": after.get("n")}
    settings = {
        "method": manifest.get("method"),
        "model_spec": manifest.get("model_spec"),
        "data": manifest.get("data"),
        "config": manifest.get("config"),
        "steps": result.get("steps"),
        "n_train": result.get("n_train"),
        "n_heldout": result.get("n_heldout"),
        "versions": manifest.get("versions"),
    }
    adapter = (out_dir / "adapter_config.json").is_file()
    summary = (
        f"A {'LoRA adapter' if adapter else 'model'} trained with {str(manifest.get('method')).upper()} "
        f"by culturalign on {result.get('n_train')} examples."
    )
    return push(
        out_dir, repo_id, repo_type="model", title=f"{Path(repo_id).name}", summary=summary,
        settings=settings, base_model=manifest.get("base_model"), gap=gap, token=token,
    )  # fmt: skip
