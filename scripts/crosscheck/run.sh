#!/bin/sh
# Regenerates the SimFaaS reference of the serverless cross-check:
#   scripts/crosscheck/run.sh [default|heldout]
# It creates a virtual environment in a temporary folder, installs SimFaaS from PyPI (pinned),
# and runs simfaas_grid.py; the default grid writes scripts/crosscheck/simfaas_reference.csv,
# which tests/serverless_crosscheck.rs reads (no Python needed to run the test).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
grid=${1:-default}
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet 'simfaas==0.2.2'
case "$grid" in
  default) out="$here/simfaas_reference.csv" ;;
  *) out="$here/simfaas_$grid.csv" ;;
esac
"$venv/bin/python" "$here/simfaas_grid.py" "$out" --grid "$grid" --replications 5 --max-time 20000
echo "wrote $out"
