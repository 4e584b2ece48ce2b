#!/usr/bin/env bash
# The lean install as a user without a GPU gets it: `pip install -e .` with no extras into
# a fresh venv, so torch, transformers, TRL and the web stack must stay out.
#   .ci/lean.sh DIR            build the venv DIR; writes "RC SECONDS" to DIR.rc when done
#   .ci/lean.sh DIR --lowest   the same with every core dependency at the lowest version
#                              pyproject.toml allows (.ci/lowest_pins.py; `make test-lowest`)
# `make test` starts this in the background before the test suite (pip mostly waits on
# downloads, so it overlaps the suite), then runs tests/lean against DIR. Byte-compiling
# here, in the background, keeps first imports in the tests fast.
set -uo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: .ci/lean.sh VENV_DIR [--lowest]}
rm -rf "$dir" "$dir.rc" "$dir.rc.tmp"
start=$(date +%s)
constraints=()
if [ "${2:-}" = "--lowest" ]; then
  "${PYTHON:-python3}" .ci/lowest_pins.py > "$dir.lowest.txt" || exit 1
  constraints=(-c "$dir.lowest.txt")
fi
"${PYTHON:-python3}" -m venv "$dir" \
  && "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "${constraints[@]}" -e .
rc=$?
echo "$rc $(( $(date +%s) - start ))" > "$dir.rc.tmp" && mv "$dir.rc.tmp" "$dir.rc"
exit $rc
