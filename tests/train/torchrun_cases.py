"""Run several training cases one after the other inside ONE torchrun launch.

Starting torchrun and importing torch, transformers and TRL in two processes costs
most of a multi-process test; doing it once for every case keeps the suite short.
The CLI under torchrun is covered by test_train_distributed.py; here each case calls
the documented Python API, which is what the CLI calls.

Usage (under torchrun): torchrun_cases.py SPEC DATA OUT_ROOT CASES_JSON
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from culturalign.train.run import train


def main(spec: str, data: str, out_root: str, cases_json: str) -> None:
    for name, (method, settings) in json.loads(cases_json).items():
        train(method, spec, data, Path(out_root) / name, config={"preset": "tiny-test", **settings})


if __name__ == "__main__":
    main(*sys.argv[1:5])
