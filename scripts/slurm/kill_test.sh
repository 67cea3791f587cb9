#!/usr/bin/env bash
# Kill test of the staged build: runs the count and build stages of a mixture as N local task
# processes (`longmix count|build MIXTURE --build-dir DIR --task-index I --task-count N`, exactly what
# a Slurm array task runs), kill -9s randomly chosen running tasks at random moments, reruns the
# stage (as a resubmission of the array would: completed tasks are skipped) until every task has
# finished, merges, and checks that the pack equals, file by file (sha256), both an uninterrupted
# staged build and `longmix build`. Prints how many kills landed (on a live task) per stage.
#
#   bash scripts/slurm/kill_test.sh [--tasks N] [--kills K] [--mixture FILE] [--seed S] [--no-decontamination]
#
# --no-decontamination builds a copy of the mixture without its decontamination block (paths made
# absolute). With decontamination, the mixture's test sets are imported first (`longmix decontam
# index --mixture`, as the index job of `longmix slurm` does); the tasks only read the index.
#
# K is the least number of kills per stage (default 12). Each trial is a fresh build directory whose
# count and build stages each go through two rounds in which every task gets a kill moment drawn
# uniformly over the stage's uninterrupted duration (so kills land early, mid-write and late, and
# on reruns of killed tasks), then a rerun round without kills; trials go on until K kills have
# landed on live tasks in each stage. Needs no Slurm.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
tasks=4
kills_wanted=12
kill_rounds=2
mixture=$repo/Mixtures/fixtures/pretrain-32k.yaml
seed=$$
no_decontamination=0
while (($#)); do
  case $1 in
    --tasks) tasks=$2; shift 2 ;;
    --kills) kills_wanted=$2; shift 2 ;;
    --mixture) mixture=$(realpath "$2"); shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --no-decontamination) no_decontamination=1; shift ;;
    *) echo "usage: $0 [--tasks N] [--kills K] [--mixture FILE] [--seed S] [--no-decontamination]" >&2; exit 2 ;;
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

if ((no_decontamination)); then
  # The mixture without its top-level decontamination block; relative paths made absolute.
  base=$(dirname "$mixture")
  awk -v base="$base" '
    /^decontamination:/ { skip = 1; next }
    skip && /^[^ #]/ { skip = 0 }
    skip { next }
    /^(tokenizer|data_root): / && $2 !~ /^\// { print $1 " " base "/" $2; next }
    { print }' "$mixture" > "$work/mixture.yaml"
  mixture=$work/mixture.yaml
  say "mixture without decontamination: $mixture"
fi

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

# One stage of one trial: up to `kill_rounds` rounds of (start every task — completed ones exit at
# once —, give each started task a kill moment drawn uniformly over the stage's uninterrupted
# duration, kill -9 it then if it is still running), then a rerun round without kills in which every
# task must exit 0, as a resubmission would. Prints how many kills landed on live tasks.
kill_stage() {
  local stage=$1 dir=$2 duration_ms=$3 landed=0 round i pids status elapsed delay entry
  RANDOM=$4  # seeded here: a command substitution's subshell would reseed it
  for ((round = 0; round <= kill_rounds; round++)); do
    pids=()
    for ((i = 0; i < tasks; i++)); do
      "$LONGMIX_BIN" "$stage" "$mixture" --build-dir "$dir" --task-index $i --task-count $tasks --threads 1 \
        >>"$dir.log" 2>&1 & pids+=($!)
    done
    if ((round < kill_rounds)); then
      elapsed=0
      while read -r delay i; do
        ((delay > elapsed)) && sleep "$(printf '%d.%03d' $(((delay - elapsed) / 1000)) $(((delay - elapsed) % 1000)))"
        elapsed=$delay
        if alive "${pids[i]}" && kill -9 "${pids[i]}" 2>/dev/null; then landed=$((landed + 1)); fi
      done < <(for ((i = 0; i < tasks; i++)); do echo "$((RANDOM % (duration_ms + 1))) $i"; done | sort -n)
    fi
    for i in "${pids[@]}"; do
      status=0; wait "$i" || status=$?
      # 137 is a kill -9's (only in kill rounds); any other failure is the task's own.
      if ((status != 0)) && ! ((status == 137 && round < kill_rounds)); then
        fail "$stage: a task exited $status in round $round (see $dir.log)"
      fi
    done
  done
  echo "$landed"
}

"$LONGMIX_BIN" decontam index --mixture "$mixture" >"$work/index.log" 2>&1 || fail "importing the test sets failed (see $work/index.log)"
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

say "killed builds (seed $seed): trials until at least $kills_wanted kills have landed in each stage"
count_kills=0 build_kills=0 trial=0
while ((count_kills < kills_wanted || build_kills < kills_wanted)); do
  trial=$((trial + 1))
  ((trial <= 100)) || fail "fewer than $kills_wanted kills per stage landed in 100 trials"
  dir=$work/killed-$trial
  c=$(kill_stage count "$dir" "$count_ms" $((seed + 2 * trial)))
  b=$(kill_stage build "$dir" "$build_ms" $((seed + 2 * trial + 1)))
  "$LONGMIX_BIN" merge "$dir" -o "$dir-pack" >>"$dir.log" 2>&1 || fail "merge after kills failed (see $dir.log)"
  pack_digest "$dir-pack" > "$dir.sha256"
  diff "$work/clean.sha256" "$dir.sha256" >&2 || fail "trial $trial: the pack built through kills differs from the uninterrupted one"
  say "trial $trial: $c kills in count, $b in build; pack identical"
  count_kills=$((count_kills + c)) build_kills=$((build_kills + b))
done
say "PASS: $((count_kills + build_kills)) kill -9s ($count_kills in count, $build_kills in build) over $trial trials; every trial's pack identical to the uninterrupted build ($(wc -l < "$work/clean.sha256") files, sha256 each) and to longmix build"
