#!/usr/bin/env bash
# The one prepared check for a lent GPU machine (issue 14, "On a GPU"); `--cpu` rehearses it on the CPU.
#
#   bash bench/gpu_check.sh [--cpu] [--out DIR] [--budget SECONDS]
#
# Runs bench/gpu_check.py (its docstring lists the steps) from the repository root with the Python in
# $PYTHON (default: .venv/bin/python when there is one, else python3), under a hard limit a little past the
# budget so that a hung step can never hold the machine. Results: DIR/gpu_check.md and DIR/gpu_check.json
# (DIR: --out, else $OUT, else ./gpu-check). Exit status: 0 when every step was ok or skipped.
set -u
cd "$(dirname "$0")/.." || exit 2
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
budget=285
for arg in "$@"; do
    case "$arg" in
        --cpu) budget=150 ;;
    esac
done
previous=""
for arg in "$@"; do
    if [ "$previous" = "--budget" ]; then budget="$arg"; fi
    previous="$arg"
done
limit=$(( ${budget%.*} + 30 ))
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec timeout --kill-after=10 "$limit" "$PYTHON" -m bench.gpu_check "$@"
