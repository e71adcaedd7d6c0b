#!/usr/bin/env bash
# Runs the test stages named on the command line (all = every stage, in order) and fails if any failed.
# Every stage runs even when an earlier one failed, so one run shows every problem.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. lab/env.sh
mkdir -p tests/output
stages=("$@")
[ "${stages[0]:-all}" = all ] && stages=(unit lint sanity build integration contract)
failed=()

stage_unit() {
  pytest -q -p no:cacheprovider tests/unit
}

# molecule and ansible-lint (ansible-compat) install this collection as a copy into ~/.ansible/collections, which
# then shadows the checkout for later runs (a stale copy failed lint on a new platform value): forget it.
forget_installed_copy() {
  rm -rf "${HOME:-/root}/.ansible/collections/ansible_collections/healthit/patching"
}

stage_lint() {
  forget_installed_copy
  ansible-lint --offline -p --profile production
}

stage_sanity() {
  # ansible-test needs the collection under ansible_collections/<namespace>/<name>: use a clean copy.
  # It runs from a venv of its own, so the requirements it pins do not disturb the toolchain's.
  local dest="$root/.build/sanity/ansible_collections/healthit/patching" venv="$root/.build/sanity-venv"
  rm -rf "$root/.build/sanity" && mkdir -p "$dest"
  # lab/ and benchmarks/ are tooling around the collection, not part of it (see build_ignore).
  git ls-files -z --cached --others --exclude-standard -- . ':!lab' ':!benchmarks' |
    rsync -a --from0 --files-from=- ./ "$dest/"
  if [ ! -x "$venv/bin/ansible-test" ]; then
    python3 -m venv "$venv" && "$venv/bin/pip" install -q "$(grep -E '^ansible-core==' lab/constraints.txt)" || return 1
  fi
  (cd "$dest" && git init -q . && git add -A >/dev/null 2>&1 &&
     PATH="$venv/bin:$PATH" "$venv/bin/ansible-test" sanity --requirements --python 3.11 --color no ${SANITY_EXTRA:-})
}

stage_build() {
  local out="$root/.build/dist"
  rm -rf "$out" && mkdir -p "$out"
  ansible-galaxy collection build --force --output-path "$out" . >/dev/null || return 1
  local tarball
  tarball=$(ls "$out"/healthit-patching-*.tar.gz)
  # The tarball is for users: no lab, no tests, no venv, no state.
  if tar -tzf "$tarball" | grep -E '^(lab|tests|molecule|benchmarks|\.venv|\.lab|\.build|inventories/lab)/'; then
    echo "build: the collection tarball contains files that are not for users (listed above)"; return 1
  fi
  echo "build: $(basename "$tarball") ($(tar -tzf "$tarball" | wc -l) entries) contains no lab, test or venv files"
}

stage_integration() {
  bash lab/up.sh || return 1
  pytest -p no:cacheprovider -m "lab" tests/integration
  local rc=$?
  # Role scenarios with molecule's idempotence and check steps (each in a container of its own).
  local scenario
  for scenario in molecule/*/molecule.yml; do
    scenario=$(basename "$(dirname "$scenario")")
    echo "--- molecule test -s $scenario"
    molecule test -s "$scenario" || rc=1
  done
  forget_installed_copy
  # pytest exits 5 when no test was collected: that is a failure here, a suite that ran nothing proves nothing.
  return $rc
}

stage_contract() {
  pytest -p no:cacheprovider -m "contract" tests/contract
}

# What a reader of only the end of the output (a CI summary) needs: why each failed stage failed.
why_failed() {
  local log=$1
  grep -E '^(FAILED|ERROR)[ :]|^E  |[A-Za-z0-9_.-]+: (error|die|refus)|fatal:|Traceback|[Ee]rror:|CRITICAL' "$log" |
    grep -vE '^=== test stage' | cut -c1-300 | tail -n 15
  echo "  ... last lines of the stage:"
  tail -n 6 "$log" | cut -c1-300
}

for s in "${stages[@]}"; do
  echo "=== test stage: $s"
  log="tests/output/stage-$s.log"
  if "stage_$s" 2>&1 | tee "$log"; then echo "=== test stage $s: passed"; else echo "=== test stage $s: FAILED"; failed+=("$s"); fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  for s in "${failed[@]}"; do
    echo "=== why stage $s failed (full log: tests/output/stage-$s.log)"
    why_failed "tests/output/stage-$s.log"
  done
  echo "FAILED stages: ${failed[*]}"
  exit 1
fi
echo "all stages passed: ${stages[*]}"
