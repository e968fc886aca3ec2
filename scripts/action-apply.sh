#!/usr/bin/env bash
# The apply half of the GitHub Action (action.yml); runs anywhere, GitHub not required.
#
# Applies, for each stack directory, exactly the plan that scripts/action-plan.sh saved
# (`monplan apply PLAN`): monplan refuses a plan that is stale (stack files or live
# state changed since), so nothing unreviewed is applied. A directory whose plan had no
# changes has nothing to do. Every directory is tried; the script exits 1 if one failed.
#
# Environment (the action's inputs):
#   MONPLAN_STACK_DIRS   directories, as given to the plan (default: stacks)
#   MONPLAN_PLAN_DIR     where the saved plans are (the downloaded artifact; default:
#                        $RUNNER_TEMP/monplan-plans, else ./monplan-plans)
#   MONPLAN_ARGS         extra arguments for `monplan apply` (e.g. --max-destroy 50)
#   MONPLAN_BIN          the monplan binary (default: monplan on PATH)
#   MONPLAN_REGION, AWS_* and the stacks' ${env:...} variables reach monplan as they are.
set -euo pipefail

monplan=${MONPLAN_BIN:-monplan}
# The action passes an empty region when none is given: then the AWS configuration decides.
if [[ -z ${MONPLAN_REGION:-} ]]; then unset MONPLAN_REGION; fi
plans=${MONPLAN_PLAN_DIR:-${RUNNER_TEMP:-.}/monplan-plans}
read -r -a extra <<<"${MONPLAN_ARGS:-}"
# Split on whitespace, without expanding globs: a directory named `*` stays one.
set -f
# shellcheck disable=SC2086
mapfile -t dirs < <(printf '%s\n' ${MONPLAN_STACK_DIRS:-stacks})
set +f

plan_path() {
    local name=${1%/}
    name=${name//\//__}
    printf '%s/%s/plan.json' "$plans" "${name:-root}"
}

failed=()
for dir in "${dirs[@]}"; do
    [[ -n $dir ]] || continue
    plan=$(plan_path "$dir")
    if [[ ! -f $plan ]]; then
        echo "::error::no saved plan for $dir at $plan (did its plan fail?)" >&2
        failed+=("$dir")
        continue
    fi
    if [[ $(jq '.plan.changes | length' "$plan") == 0 ]]; then
        echo "monplan: $dir: no changes to apply" >&2
        continue
    fi
    echo "::group::monplan apply $dir" >&2
    set +e
    "$monplan" apply --no-color "${extra[@]}" "$plan"
    code=$?
    set -e
    echo "::endgroup::" >&2
    if ((code != 0)); then
        echo "::error::monplan apply failed for $dir (exit $code)" >&2
        failed+=("$dir")
    fi
done
if ((${#failed[@]} > 0)); then
    echo "monplan: the apply failed for: ${failed[*]}" >&2
    exit 1
fi
