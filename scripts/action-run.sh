#!/usr/bin/env bash
# The steps of phase2's GitHub Action (action.yml), kept in a file so they can be read, linted
# and run locally with a simulated GITHUB_* environment (tests/test_action.py).
#
#   action-run.sh install   venv under $RUNNER_TEMP, `pip install "$GITHUB_ACTION_PATH[web]"`
#   action-run.sh diff      resolve base/head from the event, run `phase2 diff` with JUnit,
#                           Prometheus, summary and HTML outputs; phase2 itself writes the step
#                           summary, $GITHUB_OUTPUT and the annotations
#   action-run.sh apply     commit the safe transforms on the PR head and push them (opt-in)
#   action-run.sh gate      fail the job by --fail-on (after apply had its chance)
#
# Inputs arrive as INPUT_* environment variables set by action.yml's `env:` blocks: no
# `${{ }}` expression is ever expanded into this script's text.
set -euo pipefail

die() {
  # one annotation that says what to do, then a non-zero exit (2: usage, as phase2's own)
  printf '::error title=phase2::%s\n' "$1"
  exit "${2:-2}"
}

venv="${PHASE2_VENV:-${RUNNER_TEMP:?RUNNER_TEMP is not set}/phase2-venv}"
bindir="$venv/bin"
[ -d "$venv/Scripts" ] && bindir="$venv/Scripts" # Windows runners
py="$bindir/python"
phase2="$bindir/phase2"
out_dir="${RUNNER_TEMP}/phase2"

# the value of "a.b.c" in the event payload, empty when absent (never fails on odd payloads)
event() {
  [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ] || { echo ""; return 0; }
  "$py" - "$GITHUB_EVENT_PATH" "$1" <<'PY'
import json, sys
try:
    node = json.load(open(sys.argv[1], encoding="utf-8"))
except (OSError, ValueError):
    node = None
for key in sys.argv[2].split("."):
    node = node.get(key) if isinstance(node, dict) else None
print("" if node is None or isinstance(node, (dict, list)) else str(node).lower() if isinstance(node, bool) else str(node))
PY
}

# one $GITHUB_OUTPUT entry, multiline form with a random delimiter (values may hold newlines)
set_output() {
  [ -n "${GITHUB_OUTPUT:-}" ] || return 0
  local delim
  delim="ghadelimiter_$("$py" -c 'import secrets; print(secrets.token_hex(16))')"
  printf '%s<<%s\n%s\n%s\n' "$1" "$delim" "$2" "$delim" >>"$GITHUB_OUTPUT"
}

is_commit() { git rev-parse --verify --quiet "$1^{commit}" >/dev/null; }

zero_sha() { [ -z "${1//0/}" ]; }

report_path() {
  # "" -> default path under $RUNNER_TEMP/phase2; "false" -> off; anything else: that path
  case "$1" in
    false | off | no) echo "" ;;
    "") echo "$out_dir/$2" ;;
    *) echo "$1" ;;
  esac
}

cmd_install() {
  local python="${PHASE2_PYTHON:-}"
  if [ -z "$python" ]; then
    python="$(command -v python3 || command -v python || true)"
  fi
  [ -n "$python" ] || die "no python3 on PATH: set the python-version input"
  "$python" -m venv "$venv"
  # the caller's interpreter is left alone: phase2 and its dependencies live in this venv
  # the web extra: Jinja2 for the HTML report
  "$py" -m pip install --quiet --disable-pip-version-check "${GITHUB_ACTION_PATH:?}[web]"
  "$phase2" --version
}

resolve_sides() {
  # sets BASE and HEAD_SHA from the inputs or the event
  BASE="${INPUT_BASE:-}"
  HEAD_SHA="${INPUT_HEAD:-}"
  local event_name="${GITHUB_EVENT_NAME:-}"
  if [ -z "$HEAD_SHA" ]; then
    case "$event_name" in
      pull_request | pull_request_target)
        # HEAD is a synthetic merge commit here: compare the PR's own head with its base
        HEAD_SHA="$(event pull_request.head.sha)" ;;
      push) HEAD_SHA="$(event after)" ;;
      merge_group) HEAD_SHA="$(event merge_group.head_sha)" ;;
    esac
    [ -n "$HEAD_SHA" ] || HEAD_SHA="$(git rev-parse HEAD)"
  fi
  if [ -z "$BASE" ]; then
    case "$event_name" in
      pull_request | pull_request_target)
        # base.sha is the base branch's tip when the event fired: the merge base with the
        # head is what the pull request changes ("Files changed"), without the base branch's
        # own later commits showing up reversed
        BASE="$(event pull_request.base.sha)"
        if [ -n "$BASE" ] && is_commit "$BASE" && is_commit "$HEAD_SHA"; then
          BASE="$(git merge-base "$BASE" "$HEAD_SHA" || echo "$BASE")"
        fi
        ;;
      merge_group) BASE="$(event merge_group.base_sha)" ;;
      push)
        BASE="$(event before)"
        if [ -n "$BASE" ] && zero_sha "$BASE"; then
          BASE="" # a new branch: no "before"; fall through to the default branch
        fi
        ;;
    esac
  fi
  if [ -z "$BASE" ]; then
    local default_branch candidate
    default_branch="$(event repository.default_branch)"
    for candidate in ${default_branch:+"origin/$default_branch" "$default_branch"}; do
      if is_commit "$candidate"; then
        BASE="$(git merge-base "$candidate" "$HEAD_SHA" || true)"
        [ "$BASE" = "$(git rev-parse "$HEAD_SHA^{commit}")" ] && BASE=""
        [ -n "$BASE" ] && break
      fi
    done
  fi
  if [ -z "$BASE" ] && is_commit "$HEAD_SHA^"; then
    BASE="$(git rev-parse "$HEAD_SHA^")"
  fi
}

resolve_trust() {
  # sets TRUST: the commit whose configuration, [trust], [judge] and gate files count. On a
  # pull request the target branch's tip (base.sha), never the merge base: a pull request
  # branched before a reviewer was removed or [trust] was added must not get the old trust
  TRUST=""
  case "${GITHUB_EVENT_NAME:-}" in
    pull_request | pull_request_target) TRUST="$(event pull_request.base.sha)" ;;
    merge_group) TRUST="$(event merge_group.base_sha)" ;;
  esac
  [ -n "$TRUST" ] || TRUST="$BASE"
}

cmd_diff() {
  cd "${GITHUB_WORKSPACE:-.}"
  if [ "$(git rev-parse --is-shallow-repository 2>/dev/null)" = "true" ]; then
    die "this is a shallow checkout, so phase2 cannot see both sides: set fetch-depth: 0 on actions/checkout"
  fi
  resolve_sides
  if [ -z "$BASE" ]; then
    printf '::notice title=phase2::nothing to compare %s with (first commit of the repository)\n' "$HEAD_SHA"
    set_output exit_code 0
    return 0
  fi
  resolve_trust
  local side
  for side in "$BASE" "$HEAD_SHA" "$TRUST"; do
    is_commit "$side" || die "commit $side is not in this checkout: set fetch-depth: 0 on actions/checkout"
  done
  mkdir -p "$out_dir"
  local junit prom summary html report
  junit="$(report_path "${INPUT_JUNIT:-}" junit.xml)"
  prom="$(report_path "${INPUT_PROM:-}" phase2.prom)"
  summary="$(report_path "${INPUT_SUMMARY:-}" summary.md)"
  html="$(report_path "${INPUT_HTML:-}" report.html)"
  report="$out_dir/report.json"
  local args=(diff "$BASE" "$HEAD_SHA" --trust-from "$TRUST" --format json --fail-on "${INPUT_FAIL_ON:-real}")
  [ -n "$junit" ] && args+=(--junit "$junit")
  [ -n "$prom" ] && args+=(--prom "$prom")
  if [ -n "$summary" ]; then args+=(--summary "$summary"); else args+=(--no-step-summary); fi
  [ -n "$html" ] && args+=(--html "$html")
  case "${INPUT_ANNOTATIONS:-true}" in
    false | off | no) args+=(--no-annotations) ;;
    *) args+=(--annotations) ;;
  esac
  if [ -n "${INPUT_ARGS:-}" ]; then
    # shell-like words, no expansion: the input is data, never code
    local extra=()
    mapfile -d '' extra < <("$py" -c 'import shlex, sys; sys.stdout.write("".join(a + "\0" for a in shlex.split(sys.argv[1])))' "$INPUT_ARGS")
    args+=("${extra[@]}")
  fi
  set_output base "$BASE"
  set_output head "$HEAD_SHA"
  set_output trust_from "$TRUST"
  local rc=0
  GITHUB_ACTIONS=true "$phase2" "${args[@]}" >"$report" || rc=$?
  if [ "$rc" -gt 1 ]; then
    exit "$rc" # phase2 printed one error line; the job fails here
  fi
  set_output report "$report"
  set_output html "$html"
  if [ -n "$html" ] && [ -n "$summary" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    # a job summary cannot link to a file on the runner: it names the file and links to the
    # run's artifacts, where the workflow uploads it (actions/upload-artifact)
    local name runs=""
    name="$(basename "$html" | tr -d '`\n')"
    if [ -n "${GITHUB_SERVER_URL:-}" ] && [ -n "${GITHUB_REPOSITORY:-}" ] && [ -n "${GITHUB_RUN_ID:-}" ]; then
      runs=" in [this run's artifacts](${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}#artifacts)"
    fi
    printf '\n**HTML report** (side-by-side diffs, filters): `%s`%s, once uploaded with actions/upload-artifact (output `html`).\n' \
      "$name" "$runs" >>"$GITHUB_STEP_SUMMARY"
  fi
  # the count from the report's summary, not a grep of its compact JSON
  local total
  total="$("$py" -c 'import json, sys; print(json.load(open(sys.argv[1], encoding="utf-8"))["summary"]["total"])' "$report" 2>/dev/null)" || total="?"
  echo "phase2: $total mismatch(es); report in $report"
}

cmd_apply() {
  cd "${GITHUB_WORKSPACE:-.}"
  case "${GITHUB_EVENT_NAME:-}" in
    pull_request) ;;
    *) die "apply only runs on pull_request events (it pushes to the pull request's branch)" ;;
  esac
  local head_repo head_ref head_sha base_sha
  head_repo="$(event pull_request.head.repo.full_name)"
  head_ref="$(event pull_request.head.ref)"
  head_sha="$(event pull_request.head.sha)"
  base_sha="$(event pull_request.base.sha)"
  if [ "$head_repo" != "${GITHUB_REPOSITORY:-}" ]; then
    die "apply refuses pull requests from forks ($head_repo): their branch is not ours to push to"
  fi
  [ -n "$head_ref" ] && [ -n "$head_sha" ] && [ -n "$base_sha" ] || die "the pull_request event lacks head.ref, head.sha or base.sha"
  # autofix commits go on the PR head, never on the synthetic merge commit
  git checkout -q -B phase2-autofix "$head_sha"
  export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-github-actions[bot]}"
  export GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-41898282+github-actions[bot]@users.noreply.github.com}"
  export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-$GIT_AUTHOR_NAME}"
  export GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-$GIT_AUTHOR_EMAIL}"
  local base
  base="$(git merge-base "$base_sha" "$head_sha" || echo "$base_sha")"
  # the policy that decides what is safe to apply is the target branch's, not the PR's own
  "$phase2" resolve "$base" --yes --fail-on never --trust-from "$base_sha"
  local commits
  commits="$(git rev-list --count "$head_sha..HEAD")"
  set_output applied_commits "$commits"
  if [ "$commits" = "0" ]; then
    echo "phase2: no safe transform to apply"
    return 0
  fi
  if [ -n "${INPUT_TOKEN:-}" ]; then
    # the token reaches git through the environment, never argv or .git/config
    local basic
    basic="$(printf 'x-access-token:%s' "$INPUT_TOKEN" | base64 | tr -d '\n')"
    echo "::add-mask::$basic"
    export GIT_CONFIG_COUNT=1
    export GIT_CONFIG_KEY_0="http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader"
    export GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $basic"
  fi
  # a plain push: if the branch moved meanwhile it is rejected, never overwritten
  git push --quiet origin "HEAD:refs/heads/$head_ref" ||
    die "could not push to $head_ref: the workflow needs 'permissions: contents: write' (and the branch must not have moved)"
  echo "phase2: pushed $commits commit(s) with safe transforms to $head_ref"
}

cmd_gate() {
  local code="${PHASE2_EXIT_CODE:-0}"
  if [ "$code" != "0" ]; then
    echo "phase2: failing by fail-on=${INPUT_FAIL_ON:-real}; see the job summary"
    exit 1
  fi
}

case "${1:-}" in
  install) cmd_install ;;
  diff) cmd_diff ;;
  apply) cmd_apply ;;
  gate) cmd_gate ;;
  *) echo "usage: $0 install|diff|apply|gate" >&2; exit 2 ;;
esac
