"""The stage graph: every section of an experiment as stage entries, ordered by what reads what.

``nodes`` turns the old sections (``data.split``, ``data.pairs``, ``train``, ``evaluations``,
``report``) into entries of the ``stage_specs`` classes (the sugar) and appends the ``stages:``
list. ``plan`` expands an evaluation into one unit per model (a unit is what a ``stage:``
reference or a model name can depend on), finds each unit's dependencies (the stages its
``data`` names, the training stage of each model it uses, ``after:``) and orders the units
topologically, keeping the file's order among independent ones, so the old shape runs in
the order it always did: split, pairs, evaluations of the given models, training, the
trained models' evaluations, report. It touches no file, so the experiment validator runs
it when the file loads: an unknown reference or a cycle is a located error (exit 2).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Protocol

from culturalign.pipeline.checks import QUESTION_EVALS
from culturalign.pipeline.stage_specs import (
    STAGE_REF,
    EvaluateStage,
    PairsStage,
    ReportStage,
    SplitStage,
    TrainStage,
)
from culturalign.yamlconf import LocatedValueError


class Experiment(Protocol):
    """What the graph reads of ``experiment.Experiment`` (a protocol, so that the
    experiment can run ``plan`` in its validator without the two importing each other)."""

    data: Any
    models: dict[str, str]
    train: list[Any]
    evaluations: list[Any]
    stages: list[Any]
    report: Any
    model_fields_set: set[str]


INPUT_FIELDS = ("data", "general", "framework", "validation")  # fields that may hold stage:NAME
MODEL_FIELDS = ("model", "checker", "base")  # fields that name a model
PARTS = {"split": ("test", "train")}  # stage kinds with several outputs (evaluate: one per model)


@dataclass
class Node:
    name: str  # what stage:NAME refers to
    spec: Any  # an instance of a stage_specs class
    key: str  # stages.json key (evaluations add :MODEL:MODE-LANG)
    folder: str  # output folder under the run directory
    loc: tuple  # where the entry sits in the file, for errors
    index: int = 0


@dataclass
class Unit:
    key: str
    node: Node
    model: str | None = None
    deps: set[str] = field(default_factory=set)
    index: int = 0


def parse_ref(value: str) -> tuple[str, str | None]:
    """``stage:NAME`` or ``stage:NAME.PART`` → (NAME, PART)."""
    body = value[len(STAGE_REF) :]
    name, _, part = body.partition(".")
    return name, (part or None)


def questions_ref(exp: Experiment) -> str | None:
    """What an evaluation without ``data`` reads: the split's test share, or the questions."""
    if not exp.data.questions:
        return None
    return f"{STAGE_REF}split" if exp.data.split else exp.data.questions


def nodes(exp: Experiment) -> list[Node]:
    d = exp.data
    out: list[Node] = []
    if d.questions and d.split:
        spec = SplitStage(
            kind="split",
            name="split",
            data=d.questions,
            format=d.questions_format,
            per_category=d.split.per_category,
            seed=d.split.seed,
        )
        out.append(Node("split", spec, "data:split", "data", ("data", "split")))
    if d.preferences and any(t.data == "pairs" for t in exp.train):
        spec = PairsStage(kind="pairs", name="pairs", data=d.preferences, format=d.preferences_format,
                          **d.pairs.model_dump())  # fmt: skip
        out.append(Node("pairs", spec, "data:pairs", "data", ("data", "pairs")))
    for i, e in enumerate(exp.evaluations):
        fields = e.model_dump(exclude={"kind"})
        fields["data"] = e.data or questions_ref(exp)
        spec = EvaluateStage.model_construct(kind="evaluate", name=f"evaluations:{i}", eval=e.kind, after=[],
                                             **fields)  # fmt: skip
        out.append(Node(spec.name, spec, f"eval:{e.kind}", f"eval/{e.kind}", ("evaluations", i)))
    for i, t in enumerate(exp.train):
        if t.data == "pairs":
            data = f"{STAGE_REF}pairs"
        elif t.data == "sft":
            data = f"{STAGE_REF}split.train" if d.split else (d.questions or "")
        else:
            data = t.data
        spec = TrainStage(kind="train", **{**t.model_dump(), "data": data})
        out.append(Node(t.name, spec, f"train:{t.name}", f"train/{t.name}", ("train", i)))
    report = None
    for i, s in enumerate(exp.stages):
        loc = ("stages", i)
        if isinstance(s, ReportStage):
            if report is not None:
                raise LocatedValueError(loc, f"a second report stage ({report.name!r} is the first)")
            report = Node(s.name, s, "report", ".", loc)
            continue
        if isinstance(s, TrainStage):
            key, folder = f"train:{s.name}", f"train/{s.name}"
        elif isinstance(s, EvaluateStage):
            key, folder = f"eval:{s.name}", f"eval/{s.name}"
            if s.data is None:
                s = s.model_copy(update={"data": questions_ref(exp)})
        else:
            key, folder = f"{s.kind}:{s.name}", f"stages/{s.name}"
        out.append(Node(s.name, s, key, folder, loc))
    if report is not None and "report" in exp.model_fields_set:
        raise LocatedValueError(
            ("report",), f"the report is set twice: here and in report stage {report.name!r}; keep one"
        )
    if report is None:
        spec = ReportStage(kind="report", name="report", **exp.report.model_dump())
        report = Node("report", spec, "report", ".", ("report",))
    out.append(report)
    for k, n in enumerate(out):
        n.index = k
    return out


def _check_names(exp: Experiment, ns: list[Node]) -> dict[str, Node]:
    by_name: dict[str, Node] = {}
    for n in ns:
        if n.name in by_name:
            first = by_name[n.name]
            where = ".".join(map(str, first.loc))
            raise LocatedValueError((*n.loc, "name"), f"stage name {n.name!r} is taken (by {where})")
        if isinstance(n.spec, TrainStage) and n.loc[0] == "stages" and n.name in exp.models:
            raise LocatedValueError((*n.loc, "name"), f"train stage {n.name!r} reuses a model name")
        by_name[n.name] = n
    return by_name


def model_names(exp: Experiment, ns: list[Node] | None = None) -> list[str]:
    trained = [n.name for n in (ns if ns is not None else nodes(exp)) if isinstance(n.spec, TrainStage)]
    return [*exp.models, *trained]


def eval_models(exp: Experiment, n: Node, names: list[str]) -> list[str]:
    return list(n.spec.models) if n.spec.models else names


def plan(exp: Experiment) -> list[Unit]:
    """The units of ``exp`` in the order they run (see the module docstring)."""
    ns = nodes(exp)
    by_name = _check_names(exp, ns)
    names = model_names(exp, ns)
    trained = {n.name for n in ns if isinstance(n.spec, TrainStage)}
    units: dict[str, Unit] = {}
    of_node: dict[str, list[str]] = {}
    for n in ns:
        if isinstance(n.spec, EvaluateStage):
            for m in eval_models(exp, n, names):
                if m not in names:
                    raise LocatedValueError(
                        (*n.loc, "models"), f"evaluation names unknown model {m!r}; known: {sorted(names)}"
                    )
                u = Unit(f"{n.key}:{m}", n, m, index=n.index)
                units[u.key] = u
                of_node.setdefault(n.name, []).append(u.key)
        else:
            units[n.key] = Unit(n.key, n, index=n.index)
            of_node[n.name] = [n.key]

    def need_model(u: Unit, m: str | None, where: tuple) -> None:
        if m is None:
            return
        if m not in names:
            raise LocatedValueError(where, f"unknown model {m!r}; known: {sorted(names)}")
        if m in trained:
            u.deps.update(of_node[m])

    for u in units.values():
        s, loc = u.node.spec, u.node.loc
        if isinstance(s, ReportStage):
            u.deps.update(k for k in units if k != u.key)
            if s.baseline and s.baseline not in names:
                raise LocatedValueError((*loc, "baseline"), f"baseline {s.baseline!r} is not a model name")
            continue
        if isinstance(s, EvaluateStage):
            need_model(u, u.model, (*loc, "models"))
            if s.data is None:
                why = "needs `data` (or data.questions)" if s.eval in QUESTION_EVALS else "needs `data`"
                raise LocatedValueError(loc, f"evaluation {s.eval!r} {why}")
        for f in MODEL_FIELDS:
            value = getattr(s, f, None)
            if f == "base" and isinstance(s, TrainStage) and value not in names:
                raise LocatedValueError(
                    (*loc, f),
                    f"train entry {s.name!r}: base {value!r} is not in models ({sorted(exp.models)}) "
                    "or a train stage",
                )
            if f == "base" and value == s.name:
                raise LocatedValueError((*loc, f), f"train entry {s.name!r} names itself as its base")
            need_model(u, value, (*loc, f))
        for f in INPUT_FIELDS:
            value = getattr(s, f, None)
            if isinstance(value, str) and value.startswith(STAGE_REF):
                u.deps.update(ref_units(exp, value, by_name, of_node, names, (*loc, f)))
        for name in s.after:
            if name not in by_name:
                raise LocatedValueError((*loc, "after"), f"no stage named {name!r}")
            u.deps.update(of_node[name])
    return _toposort(units)


def ref_units(
    exp: Experiment, value: str, by_name: dict[str, Node], of_node: dict[str, list[str]], names: list[str],
    where: tuple,
) -> list[str]:  # fmt: skip
    name, part = parse_ref(value)
    target = by_name.get(name)
    if target is None or name.startswith("evaluations:"):
        known = sorted(k for k in by_name if ":" not in k)
        raise LocatedValueError(where, f"{value}: no stage named {name!r}; known: {', '.join(known)}")
    kind = target.spec.kind
    if kind in ("train", "report"):
        what = "trains a model (name it as a model, not as data)" if kind == "train" else "writes the report"
        raise LocatedValueError(where, f"{value}: stage {name!r} {what}")
    if kind == "evaluate":
        keys = of_node[name]
        if part is None and len(keys) == 1:
            return keys
        wanted = [k for k in keys if k.endswith(f":{part}")] if part else []
        if not wanted:
            models = [k.rsplit(":", 1)[1] for k in keys]
            raise LocatedValueError(
                where,
                f"{value}: name one model of evaluation {name!r}: stage:{name}.MODEL, MODEL in {models}",
            )
        return wanted
    allowed = PARTS.get(kind, ())
    if part is not None and part not in allowed:
        hint = f"choose {', '.join(allowed)}" if allowed else "it has a single output"
        raise LocatedValueError(where, f"{value}: stage {name!r} has no output {part!r}; {hint}")
    return of_node[name]


def _toposort(units: dict[str, Unit]) -> list[Unit]:
    """Kahn's algorithm, taking the earliest-declared ready unit first."""
    waiting = {k: set(u.deps) for k, u in units.items()}
    users: dict[str, list[str]] = {k: [] for k in units}
    for k, deps in waiting.items():
        for d in deps:
            users[d].append(k)
    order = list(units)
    ready = [(units[k].index, order.index(k), k) for k, deps in waiting.items() if not deps]
    heapq.heapify(ready)
    out: list[Unit] = []
    while ready:
        _, _, k = heapq.heappop(ready)
        out.append(units[k])
        for user in users[k]:
            waiting[user].discard(k)
            if not waiting[user]:
                heapq.heappush(ready, (units[user].index, order.index(user), user))
    if len(out) < len(units):
        left = [k for k in units if waiting[k]]
        cycle = _cycle(left, waiting)
        first = units[cycle[0]].node
        path = " → ".join(units[c].node.name for c in [*cycle, cycle[0]])
        raise LocatedValueError(first.loc, f"the stages depend on each other in a cycle: {path}")
    return out


def _cycle(left: list[str], waiting: dict[str, set[str]]) -> list[str]:
    seen: list[str] = []
    k = left[0]
    while k not in seen:
        seen.append(k)
        k = sorted(waiting[k])[0]
    return seen[seen.index(k) :]
