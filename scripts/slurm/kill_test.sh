#!/usr/bin/env bash
# Kill test of the staged build: runs the count and build stages of a mixture as N local task
# processes (`longmix count|build MIXTURE --build-dir DIR --task-index I --task-count N`, exactly what
# a Slurm array task runs), kill -9s randomly chosen running tasks at random moments, reruns the
# stage (as a resubmission of the array would: completed tasks are skipped) until every task has
# finished, merges, and checks that the pack equals, file by file (sha256), both an uninterrupted
# staged build and `longmix build`. Prints how many kills landed (on a live task) per stage.
#
#   bash scripts/slurm/kill_test.sh [--tasks N] [--kills K] [--mixture FILE] [--seed S]
#
# K is the least number of kills per stage (default 12); rounds go on until that many have landed
# and then one round runs undisturbed. Kill moments are drawn uniformly over the stage's
# uninterrupted duration, so kills land early, mid-write and late. Needs no Slurm.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
tasks=4
kills_wanted=12
mixture=$repo/Mixtures/fixtures/pretrain-32k.yaml
seed=$$
while (($#)); do
  case $1 in
    --tasks) tasks=$2; shift 2 ;;
    --kills) kills_wanted=$2; shift 2 ;;
    --mixture) mixture=$(realpath "$2"); shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: $0 [--tasks N] [--kills K] [--mixture FILE] [--seed S]" >&2; exit 2 ;;
  esac
done
say() { echo "kill_test: $*" >&2; }
fail() { echo "kill_test: FAIL: $*" >&2; exit 1; }

if [ -z "${LONGMIX_BIN:-}" ]; then
  swift build >/dev/null
  LONGMIX_BIN=$(swift build --show-bin-path)/longmix
fi
work=$(mktemp -d /tmp/longmix-kill-test.XXXXXX)
trap 'rc=$?; if ((rc == 0)); then rm -rf "$work"; else say "work directory kept: $work"; fi' EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }
pack_digest() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum); }
alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# Runs every task of a stage once, in parallel, to the end; fails if one fails. Prints ms taken.
run_stage() {
  local stage=$1 dir=$2 i pids=() t0
  t0=$(now_ms)
  for ((i = 0; i < tasks; i++)); do
    "$LONGMIX_BIN" "$stage" "$mixture" --build-dir "$dir" --task-index $i --task-count $tasks --threads 1 \
      >>"$dir.log" 2>&1 & pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || fail "$stage task failed without being killed (see $dir.log)"; done
  echo $(($(now_ms) - t0))
}

# Rounds of: start every task, kill -9 running ones at random moments within the stage's duration,
# wait. Ends with a round in which no kill was made and every task exited 0.
kill_stage() {
  local stage=$1 dir=$2 duration_ms=$3 landed=0 rounds=0 i pids failed victim delay status
  RANDOM=$((seed + $4))  # seeded here: a command substitution's subshell would reseed it
  while :; do
    rounds=$((rounds + 1))
    pids=()
    for ((i = 0; i < tasks; i++)); do
      "$LONGMIX_BIN" "$stage" "$mixture" --build-dir "$dir" --task-index $i --task-count $tasks --threads 1 \
        >>"$dir.log" 2>&1 & pids+=($!)
    done
    local round_kills=0
    if ((landed < kills_wanted)); then
      # Up to two kills per round, at random moments within the stage's uninterrupted duration.
      for _ in 1 2; do
        delay=$((RANDOM % (duration_ms + 1)))
        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
        victim=${pids[RANDOM % tasks]}
        if alive "$victim" && kill -9 "$victim" 2>/dev/null; then
          landed=$((landed + 1)); round_kills=$((round_kills + 1))
        fi
      done
    fi
    failed=0
    for i in "${pids[@]}"; do
      status=0; wait "$i" || status=$?
      # 137 is a kill -9's; any other failure is the task's own.
      ((status == 0 || status == 137)) || fail "$stage: a task exited $status (see $dir.log)"
      ((status == 0)) || failed=$((failed + 1))
    done
    if ((round_kills == 0)); then
      ((failed == 0)) && break
      fail "$stage: $failed task(s) failed in a round without kills (see $dir.log)"
    fi
    ((rounds < 200)) || fail "$stage: not finished after 200 rounds"
  done
  say "$stage: $landed kill -9s landed on running tasks over $rounds rounds"
  echo "$landed"
}

say "reference: longmix build (one process)"
"$LONGMIX_BIN" build "$mixture" -o "$work/local" >"$work/local.log" 2>&1 || fail "longmix build failed (see $work/local.log)"
pack_digest "$work/local" > "$work/local.sha256"

say "uninterrupted staged build, $tasks tasks"
count_ms=$(run_stage count "$work/clean")
build_ms=$(run_stage build "$work/clean")
"$LONGMIX_BIN" merge "$work/clean" -o "$work/clean-pack" >>"$work/clean.log" 2>&1 || fail "merge failed (see $work/clean.log)"
pack_digest "$work/clean-pack" > "$work/clean.sha256"
diff "$work/local.sha256" "$work/clean.sha256" >&2 || fail "the uninterrupted staged pack differs from longmix build"
say "count stage ${count_ms} ms, build stage ${build_ms} ms (uninterrupted)"

say "killed build (seed $seed): at least $kills_wanted kills per stage"
count_kills=$(kill_stage count "$work/killed" "$count_ms" 0)
build_kills=$(kill_stage build "$work/killed" "$build_ms" 1)
"$LONGMIX_BIN" status "$work/killed" >&2 || true
"$LONGMIX_BIN" merge "$work/killed" -o "$work/killed-pack" >>"$work/killed.log" 2>&1 || fail "merge after kills failed (see $work/killed.log)"
pack_digest "$work/killed-pack" > "$work/killed.sha256"
diff "$work/clean.sha256" "$work/killed.sha256" >&2 || fail "the pack built through kills differs from the uninterrupted one"
say "PASS: $((count_kills + build_kills)) kill -9s ($count_kills in count, $build_kills in build), pack identical to the uninterrupted build ($(wc -l < "$work/clean.sha256") files, sha256 each) and to longmix build"
