#!/usr/bin/env bash
# The plan half of the GitHub Action (action.yml); runs anywhere, GitHub not required.
#
# For each stack directory: `monplan plan` it, save the plan for the apply job, and, on
# a pull request, post its comment, or update the one posted before (one sticky comment
# per directory, found by its first line, the hidden marker `<!-- monplan:DIR -->`).
# Every directory is planned and commented even when one fails; the script then exits 1.
#
# Environment (the action's inputs):
#   MONPLAN_STACK_DIRS   directories to plan, one per line or space-separated (default: stacks)
#   MONPLAN_PLAN_DIR     where the saved plans go, DIR/plan.json per directory
#                        (default: $RUNNER_TEMP/monplan-plans, else ./monplan-plans)
#   MONPLAN_ARGS         extra arguments for `monplan plan` (e.g. --exclude queries)
#   MONPLAN_BIN          the monplan binary (default: monplan on PATH)
#   MONPLAN_COMMENT      true (default): comment on the pull request, if there is one
#   MONPLAN_PR           the pull request number (default: from $GITHUB_EVENT_PATH)
#   GITHUB_REPOSITORY    owner/name, for the comment API
#   GITHUB_OUTPUT        if set, receives plan-dir=, changes=true|false and failed=
#   MONPLAN_REGION, AWS_* and the stacks' ${env:...} variables reach monplan as they are.
#
# Exit: 0 when every plan succeeded (with or without changes), 1 otherwise.
set -euo pipefail

monplan=${MONPLAN_BIN:-monplan}
# The action passes an empty region when none is given: then the AWS configuration decides.
if [[ -z ${MONPLAN_REGION:-} ]]; then unset MONPLAN_REGION; fi
plans=${MONPLAN_PLAN_DIR:-${RUNNER_TEMP:-.}/monplan-plans}
comment=${MONPLAN_COMMENT:-true}
read -r -a extra <<<"${MONPLAN_ARGS:-}"
# Split on whitespace, without expanding globs: a directory named `*` stays one.
set -f
# shellcheck disable=SC2086
mapfile -t dirs < <(printf '%s\n' ${MONPLAN_STACK_DIRS:-stacks})
set +f

pr=${MONPLAN_PR:-}
if [[ -z $pr && -n ${GITHUB_EVENT_PATH:-} && -f ${GITHUB_EVENT_PATH:-} ]]; then
    pr=$(jq -r '.pull_request.number // empty' "$GITHUB_EVENT_PATH")
fi
if [[ $comment == true && -n $pr && -z ${GITHUB_REPOSITORY:-} ]]; then
    echo "error: GITHUB_REPOSITORY is not set: cannot comment on pull request #$pr" >&2
    exit 1
fi

# A directory's plan lives at PLANS/<dir with / as __>/plan.json: one flat level, so the
# artifact's layout does not depend on how deep the stacks are.
plan_path() {
    local name=${1%/}
    name=${name//\//__}
    printf '%s/%s/plan.json' "$plans" "${name:-root}"
}

# Posts BODY_FILE as the comment of DIR, or updates the one already there.
sticky_comment() {
    local dir=$1 body=$2 marker id first
    marker=$(head -n 1 "$body")
    id=""
    # One line per comment: its id, a tab, its body's first line.
    while IFS=$'\t' read -r cid first; do
        if [[ $first == "$marker" ]]; then
            id=$cid
            break
        fi
    done < <(gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$pr/comments" \
        --jq '.[] | [(.id | tostring), (.body | split("\n") | .[0])] | @tsv')
    if [[ -n $id ]]; then
        gh api --method PATCH "repos/$GITHUB_REPOSITORY/issues/comments/$id" \
            -F "body=@$body" --jq '.html_url' >/dev/null
        echo "monplan: updated the comment of $dir on #$pr" >&2
    else
        gh api --method POST "repos/$GITHUB_REPOSITORY/issues/$pr/comments" \
            -F "body=@$body" --jq '.html_url' >/dev/null
        echo "monplan: commented the plan of $dir on #$pr" >&2
    fi
}

mkdir -p "$plans"
changes=false
failed=()
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for dir in "${dirs[@]}"; do
    [[ -n $dir ]] || continue
    out=$(plan_path "$dir")
    mkdir -p "$(dirname "$out")"
    rm -f "$out"
    body="$work/comment.md"
    echo "::group::monplan plan $dir" >&2
    set +e
    "$monplan" plan --no-color --detailed-exitcode --comment-for "$dir" --out "$out" \
        "${extra[@]}" "$dir" >"$body"
    code=$?
    set -e
    echo "::endgroup::" >&2
    case $code in
        0) echo "monplan: $dir: no changes" >&2 ;;
        2) echo "monplan: $dir: changes planned, saved to $out" >&2; changes=true ;;
        *) echo "::error::monplan plan failed for $dir (exit $code)" >&2; failed+=("$dir") ;;
    esac
    if [[ $comment == true && -n $pr ]]; then
        if [[ ! -s $body ]]; then
            printf '<!-- monplan:%s -->\n## monplan plan: `%s`\n\nmonplan exited %s without a plan; see the job log.\n' \
                "$dir" "$dir" "$code" >"$body"
        fi
        sticky_comment "$dir" "$body"
    fi
done

if [[ -n ${GITHUB_OUTPUT:-} ]]; then
    {
        echo "plan-dir=$plans"
        echo "changes=$changes"
        echo "failed=${failed[*]:-}"
    } >>"$GITHUB_OUTPUT"
fi
if ((${#failed[@]} > 0)); then
    echo "monplan: the plan failed for: ${failed[*]}" >&2
    exit 1
fi
