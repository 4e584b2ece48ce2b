"""The fuzz corpus: malformed inputs for every command that reads a file.

Each case writes its files into a fresh folder (``{d}`` in arguments, contents and
fragments stands for it), runs one command line in-process, and names the exit code and
the parts of the message that must be there: the file, and its line, item or field where
the input has one. Model specs point at a closed loopback port (or at the embedded model
for training, which reads its data first), so a command that reached a model before
checking its input would fail differently instead of passing.

A case with ``owner`` is a known gap in a file this corpus' authors do not own: it runs as
a strict expected failure, so it turns into an error the day the owner fixes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

NO_MODEL = "openai:none@http://127.0.0.1:9/v1"  # nothing listens on port 9: never called


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    fragments: tuple[str, ...] = ()
    code: int = 2
    outputs: tuple[str, ...] = ()  # paths that must not exist afterwards (relative to {d})
    owner: str | None = None  # known gap: where it must be fixed (runs as an expected failure)
    folder: str | None = None  # make this path a folder (a folder where a file belongs)


def jl(*rows: object) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


CARE_ROW = {
    "question": "端午节吃什么？",
    "answer": "粽子。",
    "culture_type": "Cultural entities",
    "associated_culture": "Native (Chinese)",
    "geographic_scope": "Nationwide",
}
PREF = {
    "question": "Is a clock a good gift?",
    "response": "No.",
    "culture_type": "Social norms",
    "associated_culture": "Native (Chinese)",
    "rating": 8,
}
QUESTION = {
    "id": "q1",
    "text": "端午节吃什么？",
    "language": "zh",
    "culture": "Chinese",
    "category": "cultural_entities",
}
PAIR = {
    "question_id": "q1",
    "prompt": [{"role": "user", "content": "q"}],
    "chosen": [{"role": "assistant", "content": "good"}],
    "rejected": [{"role": "assistant", "content": "bad"}],
    "chosen_rating": 9,
    "rejected_rating": 2,
}
EXP = "name: fuzz\n"
PREF_NAN = (
    '{"question": "q", "response": "a", "culture_type": "Opinion", '
    '"associated_culture": "Native (Chinese)", "rating": %s}\n'
)
BOMB = (
    "  a: &a [1,1,1,1,1,1,1,1,1,1]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
)


def _exp(case_id: str, body: str, *fragments: str) -> Case:
    return Case(case_id, ("run", "{d}/exp.yaml"), {"exp.yaml": body}, fragments)


def _validate(case_id: str, name: str, content: str | bytes, *fragments: str, fmt: str | None = None) -> Case:
    argv = ("data", "validate", f"{{d}}/{name}", *(("--format", fmt) if fmt else ()))
    return Case(case_id, argv, {name: content}, fragments)


def _train(case_id: str, content: str, *fragments: str) -> Case:
    argv = ("train", "dpo", "--model", "embedded", "--data", "{d}/pairs.jsonl", "--out", "{d}/model")
    return Case(case_id, argv, {"pairs.jsonl": content}, fragments, outputs=("model",))


def _run_dir(case_id: str, argv: tuple[str, ...], files: dict[str, str], *fragments: str, owner=None) -> Case:
    return Case(case_id, argv, files, fragments, outputs=("run/report.html", "run/report.md"), owner=owner)


DATA_FILES = [
    _validate("empty-jsonl", "e.jsonl", "", "{d}/e.jsonl: the file is empty"),
    _validate("not-utf8", "latin.jsonl", b'{"text": "caf\xe9"}\n', "{d}/latin.jsonl:1: not UTF-8"),
    _validate("jsonl-broken-line", "b.jsonl", jl(QUESTION) + '{"id": "q2",\n', "{d}/b.jsonl:2: invalid JSON"),
    _validate(
        "jsonl-list-line", "l.jsonl", jl(QUESTION) + "[1, 2]\n", "{d}/l.jsonl:2: expected a JSON object"
    ),
    _validate(
        "jsonl-empty-text", "t.jsonl", jl(dict(QUESTION, text="  ")), "{d}/t.jsonl:1: text: must not be empty"
    ),
    _validate(
        "jsonl-bad-category",
        "c.jsonl",
        jl(dict(QUESTION, category="cultural_entitys")),
        "{d}/c.jsonl:1: category: unknown category 'cultural_entitys'; did you mean",
    ),
    _validate(
        "jsonl-duplicate-id", "dup.jsonl", jl(QUESTION, QUESTION), "{d}/dup.jsonl:2: id: duplicate id 'q1'"
    ),
    _validate(
        "jsonl-deep",
        "deep.jsonl",
        jl(QUESTION) + '{"a": ' * 3000 + "1" + "}" * 3000 + "\n",
        "{d}/deep.jsonl:2: invalid JSON: nested more than 200 levels deep",
    ),
    _validate(
        "json-deep",
        "deep.json",
        "[\n" + "[" * 200_000 + "]" * 200_000 + "\n]",
        "{d}/deep.json:2: invalid JSON: nested more than 200 levels deep",
    ),
    _validate("json-truncated", "care.json", json.dumps([CARE_ROW])[:-5], "{d}/care.json:1: invalid JSON"),
    _validate(
        "json-not-a-list",
        "care.json",
        json.dumps(CARE_ROW),
        "{d}/care.json:1: expected a JSON list of objects",
    ),
    _validate(
        "care-test-bad-culture-type",
        "care.json",
        json.dumps([dict(CARE_ROW, culture_type="Cultural entitys")]),
        "{d}/care.json:item 0 (line 1): culture_type: unknown category 'Cultural entitys'",
    ),
    _validate(
        "care-test-bad-scope",
        "care.json",
        json.dumps([CARE_ROW, dict(CARE_ROW, question="另一个问题？", geographic_scope="Nationwyde")]),
        "{d}/care.json:item 1 (line 1): geographic_scope: unknown geographic scope 'Nationwyde'; "
        "did you mean 'Nationwide'?",
    ),
    _validate(
        "care-test-item-not-object",
        "care.json",
        json.dumps([CARE_ROW, "just text"]),
        "{d}/care.json:item 1 (line 1): expected a JSON object",
        fmt="care-test",
    ),
    _validate(
        "prefs-rating-out-of-range",
        "p.jsonl",
        jl(PREF, dict(PREF, response="Yes.", rating=11)),
        "{d}/p.jsonl:2: rating: rating 11 is outside 1-10",
    ),
    _validate(
        "prefs-rating-nan", "p.jsonl", PREF_NAN % "NaN", "{d}/p.jsonl:1: rating: rating NaN is not a number"
    ),
    _validate(
        "prefs-rating-infinity",
        "p.jsonl",
        PREF_NAN % "-Infinity",
        "{d}/p.jsonl:1: rating: rating -inf is not a number",
    ),
    _validate(
        "prefs-rating-word", "p.jsonl", jl(dict(PREF, rating="eight")), "{d}/p.jsonl:1: rating: not a number"
    ),
    _validate(
        "prefs-rating-bool",
        "p.jsonl",
        jl(dict(PREF, rating=True)),
        "{d}/p.jsonl:1: rating: expected a number",
    ),
    _validate(
        "prefs-csv-bad-rating",
        "p.csv",
        "question,response,culture_type,associated_culture,rating\nq,a,Opinion,Native (Chinese),12\n",
        "{d}/p.csv:2: rating: rating 12 is outside 1-10",
    ),
    _validate(
        "prefs-csv-unclosed-quote",
        "p.csv",
        'question,response,culture_type,associated_culture,rating\n"q,a,Opinion,Native (Chinese),5\n',
        "{d}/p.csv:2: expected 5 fields as in the header, found 1",
    ),
    _validate(
        "cali-bad-label",
        "cali.tsv",
        "premise\thypothesis\tus_ratings\tin_ratings\nA.\tB.\t['E', 'X', 'E', 'E', 'N']\t['E', 'E', 'E', 'E', 'E']\n",
        "{d}/cali.tsv:2: us_ratings: unknown label",
        fmt="cali",
    ),
    _validate(
        "cali-short-row",
        "cali.tsv",
        "premise\thypothesis\tus_ratings\tin_ratings\nA.\tB.\t['E', 'E', 'E', 'E', 'N']\n",
        "{d}/cali.tsv:2: has 3 tab-separated fields",
        fmt="cali",
    ),
    _validate(
        "culturalbench-bad-answer",
        "cb.csv",
        "data_idx,question_idx,prompt_question,prompt_option_a,prompt_option_b,prompt_option_c,"
        "prompt_option_d,answer,country\n0,0,Q?,a,b,c,d,E,Japan\n",
        "{d}/cb.csv:2: answer: expected a letter A-D",
        fmt="culturalbench",
    ),
    _validate(
        "globalopinion-bad-selections",
        "goqa.csv",
        'question,selections,options,source\n"Q?","{not a dict","[\'A\', \'B\']",X\n',
        "{d}/goqa.csv:2: selections: cannot read the shares",
        fmt="globalopinionqa",
    ),
    _validate(
        "mcq-answer-out-of-range",
        "m.jsonl",
        jl({"id": "m1", "question": "Q?", "options": ["a", "b"], "answer": 5, "culture": "Japan"}),
        "{d}/m.jsonl:1: answer index 5 is outside the 2 options",
        fmt="mcq",
    ),
    _validate(
        "culturebank-no-behaviour",
        "kb.jsonl",
        jl({"id": "k1", "cultural group": "Japanese", "context": "at home"}),
        "{d}/kb.jsonl:1: no knowledge in this row",
        fmt="culturebank",
    ),
    Case(
        "wvs-shares-not-numbers",
        ("data", "validate", "{d}/wvs", "--format", "wvs"),
        {
            "wvs/wvs_questions.json": json.dumps(
                [{"Q_id": "Q1", "question": "Q?", "option_lst": ["a", "b"]}]
            ),
            "wvs/proportions_group_by_country.json": json.dumps({"JPN": {"Q1": {"1": "lots", "2": 0.5}}}),
        },
        ("{d}/wvs/proportions_group_by_country.json:JPN/Q1: option '1': share must be a number",),
    ),
    Case(
        "wvs-broken-json",
        ("data", "validate", "{d}/wvs", "--format", "wvs"),
        {"wvs/wvs_questions.json": "[{", "wvs/proportions_group_by_country.json": "{}"},
        ("{d}/wvs/wvs_questions.json:1: invalid JSON",),
    ),
    Case(
        "blend-broken-annotations",
        ("data", "validate", "{d}/blend", "--format", "blend"),
        {
            "blend/annotations/UK_data.json": '{"Al-en-06": {"question": ',
            "blend/questions/UK_questions.csv": "ID,Topic,Source,Question,Translation\nAl-en-06,food,x,Q?,Q?\n",
        },
        ("{d}/blend/annotations/UK_data.json:1: invalid JSON",),
    ),
    Case(
        "folder-for-file",
        ("data", "validate", "{d}/dir.jsonl"),
        {},
        ("{d}/dir.jsonl: is a folder",),
        folder="dir.jsonl",
    ),
    Case("missing-file", ("data", "validate", "{d}/nope.jsonl"), {}, ("{d}/nope.jsonl: no such file",)),
    Case(
        "stats-bad-row",
        ("data", "stats", "{d}/q.jsonl"),
        {"q.jsonl": jl(QUESTION, dict(QUESTION, id="q2", language=""))},
        ("{d}/q.jsonl:2: language: must not be empty",),
    ),
    Case(
        "split-bad-row",
        ("data", "split", "{d}/q.jsonl", "--out", "{d}/split"),
        {"q.jsonl": jl(dict(QUESTION, culture=""))},
        ("{d}/q.jsonl:1: culture: must not be empty",),
        outputs=("split",),
    ),
    Case(
        "convert-bad-row",
        ("data", "convert", "{d}/q.jsonl", "{d}/conv", "--to", "jsonl"),
        {"q.jsonl": jl(QUESTION, {"id": "q2"})},
        ("{d}/q.jsonl:2: text: required field is missing",),
        outputs=("conv",),
    ),
]

PREFERENCES_AND_PAIRS = [
    Case(
        "pairs-nothing-rated",
        ("data", "pairs", "{d}/p.jsonl", "--out", "{d}/pairs.jsonl"),
        {"p.jsonl": jl(dict(PREF, rating=None), dict(PREF, response="Yes.", rating="not an answer"))},
        ("{d}/p.jsonl: no pairs from 1 question (1 no rated response", "nothing written"),
        outputs=("pairs.jsonl",),
    ),
    Case(
        "pairs-all-tied",
        ("data", "pairs", "{d}/p.jsonl", "--out", "{d}/pairs.jsonl"),
        {"p.jsonl": jl(PREF, dict(PREF, response="Yes."))},
        ("{d}/p.jsonl: no pairs from 1 question (1 all ratings tied)",),
        outputs=("pairs.jsonl",),
    ),
    Case(
        "pairs-bad-rating",
        ("data", "pairs", "{d}/p.jsonl", "--out", "{d}/pairs.jsonl"),
        {"p.jsonl": jl(PREF, dict(PREF, response="Yes.", rating=0))},
        ("{d}/p.jsonl:2: rating: rating 0 is outside 1-10",),
        outputs=("pairs.jsonl",),
    ),
    _train(
        "train-pairs-missing-field",
        jl(PAIR, {k: v for k, v in PAIR.items() if k != "rejected"}),
        "{d}/pairs.jsonl:2",
    ),
    _train(
        "train-pairs-wrong-order",
        jl(dict(PAIR, chosen_rating=2, rejected_rating=9)),
        "{d}/pairs.jsonl:1",
        "chosen rating 2 is not above rejected rating 9",
    ),
    _train("train-pairs-broken-json", jl(PAIR) + "{oops\n", "{d}/pairs.jsonl:2: invalid JSON"),
    _train("train-pairs-empty", "\n", "{d}/pairs.jsonl"),
    Case(
        "train-pairs-deep",
        ("train", "dpo", "--model", "embedded", "--data", "{d}/pairs.jsonl", "--out", "{d}/model"),
        {"pairs.jsonl": jl(PAIR) + '{"a": ' * 3000 + "1" + "}" * 3000 + "\n"},
        ("{d}/pairs.jsonl:2: invalid JSON: nested",),
        outputs=("model",),
    ),
    Case(
        "train-config-typo",
        ("train", "config", "--config", "{d}/cfg.yaml"),
        {"cfg.yaml": "preset: tiny-test\nlearning_rat: 1e-4\n"},
        ("{d}/cfg.yaml:2: learning_rat: unknown setting; did you mean 'learning_rate'?",),
    ),
    Case(
        "train-config-duplicate-key",
        ("train", "config", "--config", "{d}/cfg.yaml"),
        {"cfg.yaml": "preset: tiny-test\nlearning_rate: 1e-4\nlearning_rate: 1e-2\n"},
        ("{d}/cfg.yaml:3: key 'learning_rate' appears twice",),
    ),
    Case(
        "train-config-alias-bomb",
        ("train", "config", "--config", "{d}/cfg.yaml"),
        {"cfg.yaml": "preset: tiny-test\nlora:\n" + BOMB},
        ("{d}/cfg.yaml:", "aliases expand to more than 10,000 values"),
    ),
    Case(
        "train-config-control-character",
        ("train", "config", "--config", "{d}/cfg.yaml"),
        {"cfg.yaml": "preset: tiny-test\nlearning_rate: \x07\n"},
        ("{d}/cfg.yaml:2: invalid YAML", "U+0007"),
    ),
    Case(
        "eval-judge-agreement-bad-rating",
        ("eval", "judge-agreement", "--judge", NO_MODEL, "--data", "{d}/p.jsonl", "--out", "{d}/agree"),
        {"p.jsonl": jl(PREF, dict(PREF, response="Yes.", rating="ten"))},
        ("{d}/p.jsonl:2: rating: not a number: 'ten'",),
        outputs=("agree",),
    ),
    Case(
        "kto-nothing-rated",
        ("data", "pairs", "{d}/p.jsonl", "--kto", "--out", "{d}/kto.jsonl"),
        {"p.jsonl": jl(dict(PREF, rating=None))},
        ("{d}/p.jsonl: no unpaired examples from 1 question",),
        outputs=("kto.jsonl",),
    ),
]

MODEL_COMMANDS = [
    Case(
        "generate-bad-question",
        ("generate", "--model", NO_MODEL, "--data", "{d}/q.jsonl", "--out", "{d}/r.jsonl"),
        {"q.jsonl": jl(dict(QUESTION, language=42))},
        ("{d}/q.jsonl:1: language: Input should be a valid string",),
        outputs=("r.jsonl", "r.jsonl.partial"),
    ),
    Case(
        "generate-broken-json",
        ("generate", "--model", NO_MODEL, "--data", "{d}/q.jsonl", "--out", "{d}/r.jsonl"),
        {"q.jsonl": '{"id": "q1", "text": "a"\n'},
        ("{d}/q.jsonl:1: invalid JSON",),
        outputs=("r.jsonl", "r.jsonl.partial"),
    ),
    Case(
        "eval-care-bad-data",
        (
            "eval",
            "care",
            "--model",
            NO_MODEL,
            "--judge",
            NO_MODEL,
            "--data",
            "{d}/care.json",
            "--out",
            "{d}/run",
        ),
        {"care.json": json.dumps([dict(CARE_ROW, culture_type="Opinon")])},
        ("{d}/care.json:item 0 (line 1): culture_type: unknown category 'Opinon'",),
        outputs=("run",),
    ),
    Case(
        "judge-responses-missing-text",
        ("judge", "--judge", NO_MODEL, "--responses", "{d}/r.jsonl", "--out", "{d}/j.jsonl"),
        {"r.jsonl": jl({"id": "r1", "question": "Q?"})},
        ("{d}/r.jsonl:1: response: required field is missing",),
        outputs=("j.jsonl",),
    ),
    Case(
        "judge-responses-broken",
        ("judge", "--judge", NO_MODEL, "--responses", "{d}/r.jsonl", "--out", "{d}/j.jsonl"),
        {"r.jsonl": "not json at all\n"},
        ("{d}/r.jsonl:1: invalid JSON",),
        outputs=("j.jsonl",),
    ),
    Case(
        "eval-mcq-bad-answer",
        ("eval", "mcq", "--model", NO_MODEL, "--data", "{d}/m.jsonl", "--format", "mcq", "--out", "{d}/run"),
        {
            "m.jsonl": jl(
                {"id": "m1", "question": "Q?", "options": ["a", "b"], "answer": 7, "culture": "Japan"}
            )
        },
        ("{d}/m.jsonl:1: answer index 7 is outside the 2 options",),
        outputs=("run",),
    ),
    Case(
        "eval-opinions-no-usable-question",
        (
            *("eval", "opinions", "--model", NO_MODEL, "--data", "{d}/goqa.csv"),
            *("--format", "globalopinionqa", "--out", "{d}/run"),
        ),
        {"goqa.csv": "question,selections,options,source\n\"Q?\",\"{'JP': [0.5]}\",\"['A', 'B']\",X\n"},
        ("{d}/goqa.csv: read as 'globalopinionqa', which holds no questions with per-country answer shares",),
        outputs=("run",),
    ),
    Case(
        "eval-cali-bad",
        ("eval", "cali", "--model", NO_MODEL, "--data", "{d}/cali.tsv", "--out", "{d}/run"),
        {"cali.tsv": "premise\thypothesis\tus_ratings\tin_ratings\nA.\tB.\tnot a list\t['E']\n"},
        ("{d}/cali.tsv:2: us_ratings: expected a list",),
        outputs=("run",),
    ),
    Case(
        "eval-grounded-bad",
        (
            "eval",
            "grounded",
            "--model",
            NO_MODEL,
            "--judge",
            NO_MODEL,
            "--data",
            "{d}/g.jsonl",
            "--out",
            "{d}/run",
        ),
        {"g.jsonl": '{"id": "g1"\n'},
        ("{d}/g.jsonl:1: invalid JSON",),
        outputs=("run",),
    ),
]

EXPERIMENT_FILES = [
    _exp(
        "exp-alias-bomb",
        EXP + "generation:\n" + BOMB,
        "{d}/exp.yaml:6: aliases expand to more than 10,000 values",
    ),
    _exp(
        "exp-alias-cycle",
        EXP + "report: &r\n  formats: *r\n",
        "{d}/exp.yaml:3: alias *r refers to the collection",
    ),
    _exp(
        "exp-duplicate-key",
        EXP + "judge: embedded\njudge: embedded\n",
        "{d}/exp.yaml:3: key 'judge' appears twice (first on line 2)",
    ),
    _exp(
        "exp-generation-typo",
        EXP + "generation:\n  temprature: 0\n",
        "{d}/exp.yaml:3: generation.temprature: unknown field; did you mean 'temperature'?",
    ),
    _exp(
        "exp-judge-generation-typo",
        EXP + "evaluations:\n  - kind: opinions\n    data: o.csv\n    judge_generation: {top_pp: 1}\n",
        "{d}/exp.yaml:5: evaluations.0.judge_generation.top_pp: unknown field; did you mean 'top_p'?",
    ),
    _exp(
        "exp-generation-bad-value",
        EXP + "generation: {max_new_tokens: 0}\n",
        "{d}/exp.yaml:2: generation.max_new_tokens: Input should be greater than or equal to 1",
    ),
    _exp(
        "exp-name-escapes",
        "name: ../../elsewhere\n",
        "{d}/exp.yaml:1: name: name '../../elsewhere' must be a plain",
    ),
    _exp("exp-name-absolute", "name: /tmp/x\n", "{d}/exp.yaml:1: name: name '/tmp/x' must be a plain name"),
    _exp(
        "exp-train-name-escapes",
        EXP + "data: {preferences: p.jsonl}\ntrain:\n  - name: ../t\n",
        "{d}/exp.yaml:4: train.0.name: train name '../t' must be a plain name",
    ),
    _exp("exp-unknown-key", EXP + "evaluatons: []\n", "{d}/exp.yaml:2: evaluatons: unexpected field"),
    _exp("exp-not-a-mapping", "- just\n- a list\n", "{d}/exp.yaml:1: expected a mapping"),
    _exp("exp-empty", "", "{d}/exp.yaml: the file is empty"),
    _exp("exp-bad-yaml", "name: [x\n", "{d}/exp.yaml:2: invalid YAML"),
    _exp("exp-tab-indent", "name: x\ndata:\n\tquestions: q.jsonl\n", "{d}/exp.yaml:3: invalid YAML"),
    _exp(
        "exp-deep-yaml",
        "name: x\ndescription: " + "[" * 20_000 + "]" * 20_000 + "\n",
        "{d}/exp.yaml: invalid YAML: nested too deeply to read",
    ),
    _exp(
        "exp-bad-model-spec",
        EXP + "models: {base: 'gpt4'}\n",
        "{d}/exp.yaml:2: models.base: unknown model spec",
    ),
    _exp(
        "exp-eval-needs-data",
        EXP + "evaluations:\n  - kind: mcq\n",
        "{d}/exp.yaml:3: evaluations.0: evaluation 'mcq' needs `data`",
    ),
    _exp(
        "exp-limit-zero",
        EXP + "evaluations:\n  - kind: mcq\n    data: m.jsonl\n    limit: 0\n",
        "{d}/exp.yaml:5: evaluations.0.limit",
    ),
    _exp(
        "exp-control-characters",
        "name: x\n\x00\x01\x02",
        "{d}/exp.yaml:2: invalid YAML: special characters are not allowed (character U+0000)",
    ),
    Case(
        "exp-not-utf8",
        ("run", "{d}/exp.yaml"),
        {"exp.yaml": b"name: caf\xe9\n"},
        ("{d}/exp.yaml:1: not UTF-8",),
    ),
]

ANNOTATION_IMPORTS = [
    Case(
        "annotate-import-broken",
        ("annotate", "import", "{d}/q.jsonl", "--db", "{d}/a.sqlite"),
        {"q.jsonl": jl(dict(QUESTION, responses=[{"producer": "m", "text": "a"}])) + "{broken\n"},
        ("{d}/q.jsonl:2: invalid JSON",),
    ),
    Case(
        "annotate-import-bad-question",
        ("annotate", "import", "{d}/q.jsonl", "--db", "{d}/a.sqlite"),
        {"q.jsonl": jl(dict(QUESTION, text="", responses=[{"producer": "m", "text": "a"}]))},
        ("{d}/q.jsonl:1: text: must not be empty",),
    ),
    Case(
        "annotate-import-responses-not-list",
        ("annotate", "import", "{d}/q.jsonl", "--db", "{d}/a.sqlite"),
        {"q.jsonl": jl(dict(QUESTION, responses="one answer"))},
        ("{d}/q.jsonl:1: responses: Input should be a valid list",),
    ),
    Case(
        "annotate-import-bad-tasks",
        ("annotate", "import", "{d}/q.jsonl", "--db", "{d}/a.sqlite", "--tasks", "rank,rate"),
        {"q.jsonl": jl(QUESTION)},
        ("--tasks: unknown task 'rate'",),
    ),
    Case(
        "annotate-import-empty",
        ("annotate", "import", "{d}/q.jsonl", "--db", "{d}/a.sqlite"),
        {"q.jsonl": "\n\n"},
        ("{d}/q.jsonl: the file is empty",),
    ),
]

RUN_FOLDERS = [
    _run_dir(
        "report-broken-summary",
        ("report", "{d}/run"),
        {"run/summary.json": '{"kind": "care", "overall": ', "run/run.json": '{"kind": "eval-care"}'},
        "{d}/run/summary.json:1: invalid JSON",
    ),
    _run_dir(
        "report-summary-wrong-shape",
        ("report", "{d}/run"),
        {"run/summary.json": "[1, 2, 3]", "run/run.json": '{"kind": "eval-care"}'},
        "{d}/run/summary.json",
    ),
    _run_dir(
        "report-broken-run-log",
        ("report", "{d}/run"),
        {"run/run.json": '{"kind": "eval-care",'},
        "{d}/run/run.json:1",
    ),
    _run_dir(
        "report-run-log-not-an-object",
        ("report", "{d}/run"),
        {"run/run.json": "[1, 2]"},
        "{d}/run/run.json",
    ),
    _run_dir(
        "report-run-log-kind-not-a-string",
        ("report", "{d}/run"),
        {"run/run.json": '{"kind": ["eval-care"]}'},
        "{d}/run/run.json: kind: expected a string",
    ),
    _run_dir(
        "report-run-log-deep",
        ("report", "{d}/run"),
        {"run/run.json": '{"kind": "eval-mcq", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"},
        "{d}/run/run.json:1: invalid JSON: nested more than 200 levels deep",
    ),
    _run_dir(
        "report-care-summary-missing-label",
        ("report", "{d}/run"),
        {"run/summary.json": '{"overall": {}}', "run/run.json": '{"kind": "eval-care"}'},
        "{d}/run/summary.json: label: required field is missing",
    ),
    _run_dir(
        "report-selection-summary-broken",
        ("report", "{d}/run"),
        {"run/summary.json": '{"cultures": ', "run/run.json": '{"kind": "select"}'},
        "{d}/run/summary.json:1: invalid JSON",
    ),
    _run_dir(
        "report-agreement-not-an-object",
        ("report", "{d}/run"),
        {"run/agreement.json": "[1]", "run/run.json": '{"kind": "judge-agreement"}'},
        "{d}/run/agreement.json: expected a JSON object, found list",
    ),
    _run_dir(
        "report-train-manifest-broken",
        ("report", "{d}/run"),
        {"run/culturalign-train.json": '{"method": "dpo",'},
        "{d}/run/culturalign-train.json:1: invalid JSON",
    ),
    _run_dir(
        "report-study-json-wrong-shape",
        ("report", "{d}/run"),
        {"run/study.csv": "run,gap\na,1\n", "run/study.json": "[]"},
        "{d}/run/study.json: expected a JSON object (StudyTable), found list",
    ),
    _run_dir(
        "report-empty-folder", ("report", "{d}/run"), {"run/.keep": ""}, "{d}/run: no results to report"
    ),
    Case(
        "report-missing-folder",
        ("report", "{d}/nothing-here"),
        {},
        ("{d}/nothing-here: no such run directory",),
    ),
    Case(
        "care-table-broken-summary",
        ("eval", "care-table", "{d}/run"),
        {"run/summary.json": '{"overall": {"mean": "high"}}'},
        ("{d}/run/summary.json", "label"),
    ),
    Case(
        "care-table-deep-summary",
        ("eval", "care-table", "{d}/run"),
        {"run/summary.json": "[" * 100_000 + "]" * 100_000},
        ("{d}/run/summary.json",),
    ),
    Case(
        "care-table-summary-null",
        ("eval", "care-table", "{d}/run"),
        {"run/summary.json": "null"},
        ("{d}/run/summary.json: expected a JSON object (CareSummary), found null",),
    ),
]

SELECTION_AND_SYNTHESIS = [
    Case(
        "select-broken-samples",
        (
            "select",
            "--data",
            "{d}/s.jsonl",
            "--budget",
            "2",
            "--out",
            "{d}/picks.jsonl",
            "--embedder",
            "none",
        ),
        {"s.jsonl": '{"id": "s1", "culture": \n'},
        ("{d}/s.jsonl:1: invalid JSON",),
        outputs=("picks.jsonl",),
    ),
    Case(
        "synth-export-bad-picks",
        ("synth", "export", "-d", "{d}/picks.jsonl", "--sft", "{d}/sft.jsonl"),
        {"picks.jsonl": jl({"id": "x"})},
        ("{d}/picks.jsonl:1: question: required field is missing",),
        outputs=("sft.jsonl",),
    ),
    Case(
        "synth-adapt-bad-questions",
        ("synth", "adapt", "--model", NO_MODEL, "--data", "{d}/g.jsonl", "--out", "{d}/a.jsonl"),
        {"g.jsonl": jl({"id": "g1"})},
        ("{d}/g.jsonl:1: text: required field is missing",),
        outputs=("a.jsonl",),
    ),
    Case(
        "synth-questions-bad-framework",
        ("synth", "questions", "--model", NO_MODEL, "--framework", "{d}/fw.yaml", "--out", "{d}/q.jsonl"),
        {"fw.yaml": "topics: [\n"},
        ("{d}/fw.yaml:2: cannot parse",),
        outputs=("q.jsonl",),
    ),
    Case(
        "synth-questions-framework-duplicate-key",
        ("synth", "questions", "--model", NO_MODEL, "--framework", "{d}/fw.yaml", "--out", "{d}/q.jsonl"),
        {"fw.yaml": "levels: []\nlevels: []\n"},
        ("{d}/fw.yaml:2: cannot parse: key 'levels' appears twice (first on line 1)",),
        outputs=("q.jsonl",),
    ),
    Case(
        "synth-questions-framework-deep-json",
        ("synth", "questions", "--model", NO_MODEL, "--framework", "{d}/fw.json", "--out", "{d}/q.jsonl"),
        {"fw.json": '{"levels": ' + "[" * 100_000 + "]" * 100_000 + "}"},
        ("{d}/fw.json:1: cannot parse: nested more than 200 levels deep",),
        outputs=("q.jsonl",),
    ),
    Case(
        "synth-grounded-export-bad-items",
        ("synth", "grounded-export", "--items", "{d}/items.jsonl", "--dpo", "{d}/dpo.jsonl"),
        {"items.jsonl": "{]\n"},
        ("{d}/items.jsonl:1: invalid JSON",),
        outputs=("dpo.jsonl",),
    ),
]

CASES: list[Case] = [
    *DATA_FILES,
    *PREFERENCES_AND_PAIRS,
    *MODEL_COMMANDS,
    *EXPERIMENT_FILES,
    *ANNOTATION_IMPORTS,
    *RUN_FOLDERS,
    *SELECTION_AND_SYNTHESIS,
]
