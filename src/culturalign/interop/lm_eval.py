"""Export culturalign's choice benchmarks as lm-evaluation-harness tasks.

``export_lm_eval`` writes one folder that ``lm_eval --include_path DIR --tasks NAME``
runs: a YAML and a JSONL of documents per task, and ``utils.py`` (the metrics lm-eval
cannot express in YAML: opinion similarity, CulturalBench-Hard's question accuracy,
CALI's F1). The documents carry the exact prompt culturalign's own evaluator sends with
``--no-chat`` (raw text, lm-eval's default), ending in the same forced answer prefix;
the options are the continuations, so lm-eval's per-option log-likelihoods are the
numbers culturalign reads (for one-token labels, such as option letters, the next-token
log-probability it reads is the whole continuation). No lm-eval import is needed here.

Two limits on that agreement: run lm-eval without ``--apply_chat_template`` (the tasks
hold culturalign's raw ``--no-chat`` prompts, with the answer prefix in the text); and a
label the tokenizer splits into several tokens (`` True`` in a small vocabulary) is
read by culturalign from its first token only, while lm-eval sums all of them.

Tasks (all tagged ``culturalign``):

* ``culturalign_opinions``: one document per (question, country); ``similarity`` is
  1 − JS distance to the country's survey shares (``eval opinions``'s ``pair_mean``);
* ``culturalign_culturalbench_easy`` (``acc``) and ``culturalign_culturalbench_hard``
  (``acc`` per judgement, ``question_acc`` per question);
* ``culturalign_cali_<culture>``, tagged ``culturalign_cali``: ``acc``, ``macro_f1``,
  ``entailment_f1`` over the pairs whose annotators agree on a majority label;
* ``culturalign_mcq`` / ``culturalign_blend_mcq`` (letters; ``acc``) and
  ``culturalign_mcq_text`` (option texts after ``Answer:``; ``acc``, ``acc_norm``).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from culturalign.errors import ConfigError
from culturalign.evals.choice.prompts import ChoicePrompts, culture_phrase, letters_for, option_block
from culturalign.io import atomic_write_text, write_json
from culturalign.records import ChoiceItem, NLIItem
from culturalign.records.truefalse import TrueFalseItem
from culturalign.sampling import sample_limit

BENCHMARKS = ("opinions", "culturalbench", "cali", "blend-mcq", "mcq")
TASK_VERSION = 1.0
UTILS = Path(__file__).with_name("lm_eval_task_utils.py")


@dataclass
class Task:
    """One lm-eval task: its documents and how lm-eval scores them."""

    name: str
    docs: list[dict[str, Any]]
    tags: tuple[str, ...] = ("culturalign",)
    delimiter: str = ""  # between the prompt and each option (" " for option texts)
    metrics: tuple[tuple[str, str], ...] = (("acc", "mean"),)  # (metric, aggregation)
    process_results: str | None = None  # a function in utils.py


def task_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _doc(prompt: str, choices: Sequence[str], gold: int, **fields: Any) -> dict[str, Any]:
    return {"prompt": prompt, "choices": list(choices), "gold": gold, **fields}


def _letters_prompt(prompts: ChoicePrompts, name: str, **values: Any) -> str:
    """The raw prompt culturalign scores letters after: text, blank line, answer prefix."""
    return str(prompts.prompt(name, **values)) + prompts.prefix()


def opinion_tasks(
    items: Sequence[Any],
    prompts: ChoicePrompts,
    countries: Sequence[str] | None = None,
    similarity: str = "distance",
) -> list[Task]:
    from culturalign.datasets.wvs import country_name
    from culturalign.evals.choice.opinions import opinion_items
    from culturalign.evals.metrics import argmax, check_similarity_measure

    check_similarity_measure(similarity)
    wanted = {country_name(c) for c in countries} if countries else None  # WVS codes work too
    questions = opinion_items(items)
    surveyed = {c for q in questions for c in q.target_distributions or {}}
    if wanted and (unknown := sorted(wanted - surveyed)):
        raise ConfigError(
            f"--country {', '.join(unknown)}: not in the survey data; its countries are "
            f"{', '.join(sorted(surveyed))}"
        )
    docs = []
    for q in questions:
        for c, target in sorted((q.target_distributions or {}).items()):
            if wanted is not None and c not in wanted:
                continue
            text = _letters_prompt(
                prompts, "opinion", country=c, question=q.question, options=option_block(q.options)
            )
            # gold (the survey's most common answer) only feeds lm-eval's bookkeeping
            docs.append(
                _doc(text, letters_for(len(q.options)), argmax(target), id=q.id, country=c)
                | {"target": list(target), "measure": similarity}
            )
    metric = (("similarity", "mean"),)
    return [Task("culturalign_opinions", docs, metrics=metric, process_results="process_opinion")]


def _mcq_letters_doc(prompts: ChoicePrompts, q: ChoiceItem, **fields: Any) -> dict[str, Any]:
    """One lettered multiple-choice question as the ``mcq`` prompt asks it."""
    text = _letters_prompt(prompts, "mcq", question=q.question, options=option_block(q.options))
    return _doc(text, letters_for(len(q.options)), q.answer, id=q.id, **fields)


def culturalbench_tasks(items: Sequence[Any], prompts: ChoicePrompts) -> list[Task]:
    from culturalign.evals.choice.culturalbench import TRUE_FALSE

    easy = [
        _mcq_letters_doc(prompts, q, country=q.culture)
        for q in items
        if isinstance(q, ChoiceItem) and q.answer is not None
    ]
    hard = []
    for q in items:
        if not isinstance(q, TrueFalseItem):
            continue
        for k, (option, truth) in enumerate(zip(q.options, q.truths, strict=True)):
            text = str(prompts.prompt("truefalse", question=q.question, option=option))
            text += prompts.prefix("truefalse_prefix")
            hard.append(
                _doc(
                    text, TRUE_FALSE, 0 if truth else 1, id=f"{q.id}#{k}", question_id=q.id, country=q.culture
                )
            )
    out = []
    if easy:
        out.append(
            Task("culturalign_culturalbench_easy", easy, tags=("culturalign", "culturalign_culturalbench"))
        )
    if hard:
        out.append(
            Task(
                "culturalign_culturalbench_hard",
                hard,
                tags=("culturalign", "culturalign_culturalbench"),
                metrics=(("acc", "mean"), ("question_acc", "question_accuracy")),
                process_results="process_truefalse",
            )
        )
    return out


def cali_tasks(items: Sequence[Any], prompts: ChoicePrompts, cultures: Sequence[str]) -> list[Task]:
    from culturalign.evals.choice.cali import NLI_LABELS

    pairs = [p for p in items if isinstance(p, NLIItem)]
    out = []
    for c in cultures:
        docs = []
        for p in pairs:
            gold = p.gold(c) if c in p.labels else None
            if gold is None:  # no annotators for this culture, or a tie: culturalign drops it too
                continue
            text = _letters_prompt(
                prompts, "cali", premise=p.premise, hypothesis=p.hypothesis, culture=culture_phrase(c)
            )
            docs.append(_doc(text, NLI_LABELS, NLI_LABELS.index(gold), id=p.id, culture=c))
        if not docs:
            raise ConfigError(f"--culture {c}: no pair in the data has a majority label from its annotators")
        out.append(
            Task(
                f"culturalign_cali_{task_slug(c)}",
                docs,
                tags=("culturalign", "culturalign_cali"),
                metrics=(("acc", "mean"), ("macro_f1", "macro_f1"), ("entailment_f1", "entailment_f1")),
                process_results="process_nli",
            )
        )
    return out


def mcq_tasks(
    items: Sequence[Any], prompts: ChoicePrompts, mode: str = "letters", name: str = "mcq"
) -> list[Task]:
    questions = [q for q in items if isinstance(q, ChoiceItem) and q.answer is not None]
    if mode == "letters":
        docs = [_mcq_letters_doc(prompts, q, culture=q.culture) for q in questions]
        return [Task(f"culturalign_{name}", docs)]
    if mode != "text":
        raise ConfigError(f"unknown mode {mode!r}; use letters or text")
    docs = [
        _doc(
            str(prompts.prompt("mcq_text", raw_suffix="", question=q.question)), q.options, q.answer, id=q.id
        )
        for q in questions
    ]
    return [
        Task(f"culturalign_{name}_text", docs, delimiter=" ", metrics=(("acc", "mean"), ("acc_norm", "mean")))
    ]


def task_yaml(task: Task, data_file: str) -> str:
    """The task's YAML; written by hand because lm-eval's ``!function`` tag is not plain YAML."""
    lines = [
        f"task: {task.name}",
        "tag:",
        *(f"  - {t}" for t in task.tags),
        "custom_dataset: !function utils.load_docs",
        "dataset_kwargs:",
        f"  data_file: {json.dumps(data_file)}",
        "test_split: test",
        "output_type: multiple_choice",
        "doc_to_text: prompt",
        "doc_to_choice: choices",
        "doc_to_target: gold",
        f"target_delimiter: {json.dumps(task.delimiter)}",
        "num_fewshot: 0",
    ]
    if task.process_results:
        lines.append(f"process_results: !function utils.{task.process_results}")
    lines.append("metric_list:")
    for metric, agg in task.metrics:
        agg_text = agg if agg == "mean" else f"!function utils.{agg}"
        lines += [f"  - metric: {metric}", f"    aggregation: {agg_text}", "    higher_is_better: true"]
    lines += ["metadata:", f"  version: {TASK_VERSION}"]
    return "\n".join(lines) + "\n"


def build_tasks(
    benchmark: str,
    items: Sequence[Any],
    *,
    template_dir: str | Path | None = None,
    countries: Sequence[str] | None = None,
    cultures: Sequence[str] | None = None,
    similarity: str = "distance",
    mode: str = "letters",
) -> tuple[list[Task], dict[str, str]]:
    """The tasks for one benchmark's items, and the template shas their prompts came from."""
    prompts = ChoicePrompts(template_dir, chat=False)
    if benchmark == "opinions":
        tasks = opinion_tasks(items, prompts, countries, similarity)
    elif benchmark == "culturalbench":
        tasks = culturalbench_tasks(items, prompts)
    elif benchmark == "cali":
        from culturalign.evals.choice.cali import DEFAULT_CULTURES

        tasks = cali_tasks(items, prompts, cultures or DEFAULT_CULTURES)
    elif benchmark in ("mcq", "blend-mcq"):
        tasks = mcq_tasks(items, prompts, mode, name=task_slug(benchmark))
    else:
        raise ConfigError(f"unknown benchmark {benchmark!r}; use one of {', '.join(BENCHMARKS)}")
    tasks = [t for t in tasks if t.docs]
    if not tasks:
        raise ConfigError(f"the data holds nothing the {benchmark} tasks can score")
    return tasks, prompts.shas


def load_items(benchmark: str, data: str | Path, fmt: str | None = None) -> list[Any]:
    """The benchmark's items from a data path, through the loaders ``culturalign eval`` uses."""
    from culturalign.evals.choice import data as choice_data

    path = Path(data)
    if benchmark == "blend-mcq":
        from culturalign.datasets.blend_mcq import load

        return load(path)
    loaders = {
        "opinions": choice_data.opinion_items,
        "culturalbench": choice_data.culturalbench_items,
        "cali": choice_data.cali_items,
        "mcq": choice_data.mcq_items,
    }
    if benchmark not in loaders:
        raise ConfigError(f"unknown benchmark {benchmark!r}; use one of {', '.join(BENCHMARKS)}")
    return loaders[benchmark](path, fmt)


def export_lm_eval(
    out_dir: str | Path,
    benchmark: str,
    items: Sequence[Any],
    *,
    template_dir: str | Path | None = None,
    countries: Sequence[str] | None = None,
    cultures: Sequence[str] | None = None,
    similarity: str = "distance",
    mode: str = "letters",
    limit: int | None = None,
    limit_order: str = "stratified",
    data_path: str | Path | None = None,
) -> dict[str, Any]:
    """Write the tasks into ``out_dir`` (other benchmarks' tasks already there stay, so one
    folder can hold them all) and return what was written (also ``export.json``)."""
    by_kind: dict[type, list[Any]] = {}
    for item in items:  # a limit applies to each kind (CulturalBench Easy and Hard), as in eval
        by_kind.setdefault(type(item), []).append(item)
    items = [i for group in by_kind.values() for i in sample_limit(group, limit, order=limit_order)]
    tasks, shas = build_tasks(
        benchmark,
        items,
        template_dir=template_dir,
        countries=countries,
        cultures=cultures,
        similarity=similarity,
        mode=mode,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(UTILS, out / "utils.py")
    written = {}
    for task in tasks:
        data_file = f"{task.name}.jsonl"
        atomic_write_text(
            out / data_file, "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in task.docs)
        )
        atomic_write_text(out / f"{task.name}.yaml", task_yaml(task, data_file))
        written[task.name] = {"docs": len(task.docs), "metrics": [m for m, _ in task.metrics]}
    manifest_path = out / "export.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    manifest.setdefault("tasks", {}).update(written)
    manifest.setdefault("exports", []).append(
        {
            "benchmark": benchmark,
            "data": None if data_path is None else str(data_path),
            "tasks": sorted(written),
            "prompts": shas,
            "chat": False,
            **({"mode": mode} if benchmark in ("mcq", "blend-mcq") else {}),
            **({"similarity_measure": similarity} if benchmark == "opinions" else {}),
            "limit": limit,
        }
    )
    write_json(manifest_path, manifest)
    return {"out": str(out), "benchmark": benchmark, "tasks": written}
