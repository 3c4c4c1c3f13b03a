#!/usr/bin/env bash
# Mutation checks of docs/methods.md 1.7: plant a halved or sign-flipped CEO-letter effect in the
# generator (edi_recruit/synthetic/outcomes.py) and in the estimator (tasks/analyses/funnel_statistics/fits.py),
# run the CI test tests/analyses/funnel_statistics/test_letter_power.py::test_letter_term_recovered_with_power
# on each, and print whether it failed (it must) and why.  Works on a copy of HEAD (git archive) under a
# temporary directory, so the working tree, and anyone else's tests running in it, never see a mutant.
#
# Usage:  bash benchmarks/mutation_checks.sh        (about 4 x 30 s on an idle 2-core machine)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="$ROOT/.venv/bin/python"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
git -C "$ROOT" archive HEAD | tar -x -C "$WORK"
echo "code $(git -C "$ROOT" rev-parse --short HEAD), $(date -u +%F)"
cp "$WORK/edi_recruit/synthetic/outcomes.py" "$WORK/outcomes.orig"
cp "$WORK/tasks/analyses/funnel_statistics/fits.py" "$WORK/fits.orig"

run() {  # $1 = label
  local out
  out="$(cd "$WORK" && PYTHONPATH="$WORK" "$PY" -m pytest -q -p no:cacheprovider \
        tests/analyses/funnel_statistics/test_letter_power.py -k recovered_with_power 2>&1 || true)"
  if grep -q "1 failed" <<<"$out"; then
    echo "| $1 | FAILS (as it must) | $(grep -m1 '^E .*AssertionError' <<<"$out" | sed 's/^E *AssertionError: //')"
  else
    echo "| $1 | passes | $(tail -1 <<<"$out")"
  fi
}

mutate_generator() {  # $1 = replacement of '+ b[TERM_BME_X_LETTER]' in the offer utility
  cp "$WORK/outcomes.orig" "$WORK/edi_recruit/synthetic/outcomes.py"
  sed -i "s/+ b\[TERM_BME_X_LETTER\] \* bme_i \* letterv/$1 * bme_i * letterv/" "$WORK/edi_recruit/synthetic/outcomes.py"
  ! cmp -s "$WORK/outcomes.orig" "$WORK/edi_recruit/synthetic/outcomes.py"
}

mutate_estimator() {  # $1 = factor applied to the reported bme:letter_to_ceo of every conditional logit fit
  cp "$WORK/fits.orig" "$WORK/tasks/analyses/funnel_statistics/fits.py"
  "$PY" - "$WORK/tasks/analyses/funnel_statistics/fits.py" "$1" <<'EOF'
import sys
p, factor = sys.argv[1], sys.argv[2]
s = open(p).read()
old = ("        _fit_conditional_kept(fit, data, diffs, keep, use_sm)\n"
       "    _feature_means(fit, d, exprs, feature_levels)\n    return fit")
new = old.replace("    _feature_means", "    if 'bme:letter_to_ceo' in fit.terms:\n"
                  f"        fit.params[fit.index('bme:letter_to_ceo')] *= {factor}\n    _feature_means", 1)
assert s.count(old) == 1, "fits.py changed: update the estimator mutation"
open(p, "w").write(s.replace(old, new))
EOF
}

echo "| mutation | test_letter_term_recovered_with_power | reason |"
echo "|---|---|---|"
run "none"
mutate_generator "+ 0.5 * b[TERM_BME_X_LETTER]" && run "generator: letter effect halved (outcomes.py)"
mutate_generator "- b[TERM_BME_X_LETTER]" && run "generator: letter effect sign flipped (outcomes.py)"
cp "$WORK/outcomes.orig" "$WORK/edi_recruit/synthetic/outcomes.py"
mutate_estimator 0.5 && run "estimator: letter coefficient halved (fits.py)"
mutate_estimator -1.0 && run "estimator: letter coefficient sign flipped (fits.py)"
