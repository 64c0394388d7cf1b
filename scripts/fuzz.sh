#!/usr/bin/env bash
# The long fuzz pass: runs the proptest fuzz suites (src/fuzz/, and the
# .dockerignore matcher against its reference) in a release build, round
# after round with fresh random seeds, for MINUTES minutes (default 15).
# Prints the cases run; stops at the first failure, whose minimal input
# proptest prints (add it to fuzz/corpus/<target>/ with a regression test).
#
#   bash scripts/fuzz.sh [MINUTES] [CASES_PER_ROUND]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
minutes=${1:-15}
cases=${2:-2000}
suites=(
  fuzz::tests::taskfile_loader
  fuzz::tests::template_engine
  fuzz::tests::variable_scopes
  fuzz::tests::dockerignore_matching
  fuzz::tests::tag_filter
  docker::ignore::prop_tests::glob_agrees_with_the_backtracking_reference
  docker::ignore::prop_tests::collapsing_stars_keeps_the_meaning
  docker::ignore::prop_tests::one_pass_over_the_path_matches_its_parents_as_each_on_its_own
)
cargo test --release --lib --no-run
end=$(( $(date +%s) + minutes * 60 ))
rounds=0
log=$(mktemp)
while [ "$(date +%s)" -lt "$end" ]; do
  if ! PROPTEST_CASES=$cases cargo test --release --lib -q -- --exact "${suites[@]}" >"$log" 2>&1; then
    grep -v '^\s*[0-9]*: \|^\s*at ' "$log" | tail -60
    echo "scripts/fuzz.sh: round $((rounds + 1)) failed (full log: $log)"
    exit 1
  fi
  rounds=$((rounds + 1))
  echo "round $rounds: ${#suites[@]} suites x $cases cases passed"
done
rm -f "$log"
echo "scripts/fuzz.sh: $rounds rounds, $((rounds * cases * ${#suites[@]})) cases, no failure"
