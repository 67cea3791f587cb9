#!/usr/bin/env bash
# The Slurm test tier: starts a single-node Slurm cluster on this machine (scripts/slurm/cluster.sh,
# which installs slurmctld/slurmd/slurm-client munge from apt when missing; needs root), runs the
# fixture pretraining mixture as a 4-task array through `longmix slurm --submit` (index job ->
# count array -> build array -> merge, chained afterok; the index job is the only writer of the
# decontamination index, which the tasks open read-only), waits for the jobs (squeue/scontrol:
# accounting is off without slurmdbd), and checks that the merged pack equals a local `longmix
# build` of the same mixture, file by file (sha256); then resubmits (every task already complete:
# same pack); then requeue: in a fresh chain, one running count task and one running build task get
# USR1 in their batch shell (`scancel --batch --signal=USR1`, what `--signal=B:USR1@S` sends before
# the time limit), each must stop mid-run, requeue itself (Restarts=1), leave no temporary or lock,
# and the pack must still equal the local build (Slurm holds a requeued job ~3 min before it may
# start again; the test releases it at once with `scontrol update JobId=.. StartTime=now`); then 7
# tasks in arrays of at most 3 (MaxArraySize chunking with task offsets: same pack). Stops only the
# daemons it started. Prints its wall time.
#
#   bash scripts/test-slurm.sh            (uses the debug build; LONGMIX_BIN=path to use another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
started=$(date +%s)
tasks=4
mixture=$repo/Mixtures/fixtures/pretrain-32k.yaml
timeout_s=${LONGMIX_SLURM_TIMEOUT:-900}

say() { echo "test-slurm: $*" >&2; }
fail() { echo "test-slurm: FAIL: $*" >&2; exit 1; }

if [ -z "${LONGMIX_BIN:-}" ]; then
  swift build >/dev/null
  LONGMIX_BIN=$(swift build --show-bin-path)/longmix
fi
[ -x "$LONGMIX_BIN" ] || fail "no longmix binary at $LONGMIX_BIN"

# The cluster: started here unless it is already up (then it is left running at the end).
cluster=scripts/slurm/cluster.sh
stop_cluster=1
cluster_status=$(bash "$cluster" status || true)
grep -q '^slurmctld: running' <<<"$cluster_status" && stop_cluster=0
work=$(mktemp -d /tmp/longmix-slurm-test.XXXXXX)
jobs=()
cleanup() {
  local rc=$?
  if ((${#jobs[@]})) && ((rc != 0)); then scancel "${jobs[@]}" 2>/dev/null || true; fi
  ((stop_cluster)) && bash "$cluster" stop || true
  say "wall time $(($(date +%s) - started)) s (exit $rc)"
  if ((rc == 0)); then rm -rf "$work"; else say "work directory kept: $work"; fi
  exit $rc
}
trap cleanup EXIT
bash "$cluster" start
eval "$(bash "$cluster" env)"
say "cluster up after $(($(date +%s) - started)) s"

# Waits until none of the given jobs is queued or running, then requires every one of their tasks
# COMPLETED. A job whose dependency can never be met (an earlier stage failed) fails the test at once.
wait_for_jobs() {
  local deadline=$(($(date +%s) + timeout_s)) ids queued
  ids=$(IFS=,; echo "$*")
  while :; do
    queued=$(squeue -h -j "$ids" -o '%i %T %r' 2>/dev/null || true)
    [ -z "$queued" ] && break
    if grep -q DependencyNeverSatisfied <<<"$queued"; then
      echo "$queued" >&2; show_logs; fail "a stage failed, so a later one can never start"
    fi
    (($(date +%s) < deadline)) || { echo "$queued" >&2; show_logs; fail "jobs not done after $timeout_s s"; }
    sleep 1
  done
  local id states
  for id in "$@"; do
    states=$(scontrol -o show job "$id" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c)
    if grep -v -q 'JobState=COMPLETED' <<<"$states"; then
      echo "job $id: $states" >&2; show_logs; fail "job $id did not complete"
    fi
  done
}
show_logs() {
  local f
  for f in "$work"/*/logs/* "$work"/logs/*; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
  return 0
}

# Sends USR1 to the batch shell of the first element of ARRAY (stage STAGE) seen running mid-task
# (its trap set and its task lock taken), as Slurm does before the time limit; waits until it is
# requeued (pending again, Restarts=1), then lets it start at once instead of after Slurm's
# requeue hold. Prints STAGE:ELEMENT. Fails if the task finished before the signal could stop it.
requeue_one() {
  local stage=$1 array=$2 build=$3 deadline=$(($(date +%s) + timeout_s)) element="" e log lock
  while [ -z "$element" ]; do
    (($(date +%s) < deadline)) || fail "no $stage task of job $array was seen running"
    for e in $(squeue -h -j "$array" -t RUNNING -o '%i' 2>/dev/null); do
      # Mid-run: the task holds its lock (longmix is past its start-up, inside the stage).
      lock=$build/$([ "$stage" = count ] && echo count || echo tokenize/r0)/$(printf 'task-%05d-of-%05d' "${e#*_}" "$tasks").lock
      if [ -e "$lock" ] && grep -q "^longmix $stage: task .* restart 0" "$build/logs/$stage-$e.out" 2>/dev/null; then
        element=$e; break
      fi
    done
    [ -n "$element" ] || sleep 0.05
  done
  # scancel may report "Job can not be altered now, try again later" although the batch shell got
  # the signal, and then keeps retrying for minutes (it would signal the requeued run too): each
  # try is cut short, and the trap's line in the log says whether the signal arrived.
  log="$build/logs/$stage-$element.out"
  local tries=0
  until grep -q 'USR1, the time limit is near' "$log" 2>/dev/null; do
    ((tries++ < 20)) || fail "USR1 never reached $element's batch shell"
    timeout 2 scancel --batch --signal=USR1 "$element" 2>/dev/null || true
    sleep 0.5
  done
  while :; do
    (($(date +%s) < deadline)) || { cat "$log" >&2; fail "$element was not requeued after USR1"; }
    grep -q 'finished before it could stop' "$log" 2>/dev/null && { cat "$log" >&2; fail "$element finished before USR1 could stop it (the test needs a task still running)"; }
    if scontrol -o show job "$element" 2>/dev/null | grep -q 'JobState=PENDING.*Restarts=1 '; then break; fi
    sleep 0.2
  done
  scontrol update JobId="$element" StartTime=now || fail "cannot release $element's requeue hold"
  echo "$stage:$element"
}

# Digest of every file of a pack directory, by relative path.
pack_digest() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum); }

# The staged commands are there when `longmix --help` lists count, merge and status.
staged=$("$LONGMIX_BIN" --help | grep -cE '^  (count|merge|status) ' || true)
if ((staged == 3)); then
  say "local reference: longmix build"
  "$LONGMIX_BIN" build "$mixture" -o "$work/local" >/dev/null
  say "submitting the $tasks-task build through longmix slurm --submit"
  "$LONGMIX_BIN" slurm "$mixture" --build-dir "$work/build" --tasks $tasks --cpus-per-task 1 \
    -o "$work/pack" --submit | tee "$work/submit.log"
  mapfile -t jobs < <(sed -n 's/^submitted [a-z_0-9]*: job \([0-9]*\)$/\1/p' "$work/submit.log")
  ((${#jobs[@]} == 4)) || fail "expected 4 submitted jobs (index, count, build, merge), got ${#jobs[@]}"
  wait_for_jobs "${jobs[@]}"
  "$LONGMIX_BIN" status "$work/build"
  pack_digest "$work/local" > "$work/local.sha256"
  pack_digest "$work/pack" > "$work/pack.sha256"
  [ -s "$work/local.sha256" ] || fail "the local pack is empty"
  diff "$work/local.sha256" "$work/pack.sha256" >&2 || fail "the merged pack differs from the local build"
  say "merged pack equals the local build: $(wc -l < "$work/local.sha256") files, sha256 of each"

  say "resubmission: every task already complete, same pack"
  mv "$work/pack" "$work/pack-1"
  "$LONGMIX_BIN" slurm "$mixture" --build-dir "$work/build" --tasks $tasks --cpus-per-task 1 \
    -o "$work/pack" --submit > "$work/submit2.log"
  mapfile -t jobs < <(sed -n 's/^submitted [a-z_0-9]*: job \([0-9]*\)$/\1/p' "$work/submit2.log")
  wait_for_jobs "${jobs[@]}"
  pack_digest "$work/pack" > "$work/pack2.sha256"
  diff "$work/local.sha256" "$work/pack2.sha256" >&2 || fail "the resubmitted build's pack differs"

  say "requeue: a running count task and a running build task get USR1 mid-run, stop and requeue themselves"
  "$LONGMIX_BIN" slurm "$mixture" --build-dir "$work/buildq" --tasks $tasks --cpus-per-task 1 \
    -o "$work/packq" --submit > "$work/submitq.log"
  mapfile -t jobs < <(sed -n 's/^submitted [a-z_0-9]*: job \([0-9]*\)$/\1/p' "$work/submitq.log")
  ((${#jobs[@]} == 4)) || fail "expected 4 submitted jobs, got ${#jobs[@]}"
  requeued=()
  for stage in count build; do
    array=${jobs[1]}; [ $stage = build ] && array=${jobs[2]}
    element=$(requeue_one "$stage" "$array" "$work/buildq") || exit 1
    requeued+=("$element")
  done
  wait_for_jobs "${jobs[@]}"
  for element in "${requeued[@]}"; do
    stage=${element%%:*}; element=${element#*:}
    log="$work/buildq/logs/$stage-$element.out"
    scontrol -o show job "$element" | grep -q 'Restarts=1 ' || fail "$element was not requeued once: $(scontrol -o show job "$element" | grep -o 'Restarts=[0-9]*')"
    grep -q 'interrupted (signal 10); temporaries removed' "$log" || { cat "$log" >&2; fail "$element: longmix was not stopped mid-run by USR1"; }
    grep -q 'restart 1' "$log" || { cat "$log" >&2; fail "$element: no second run in its log"; }
    say "$stage task $element: stopped by USR1 mid-run, requeued (Restarts=1), rerun completed"
  done
  left=$(find "$work/buildq" \( -name '*.tmp-*' -o -name '*.lock' -o -name '*.partial-*' -o -name '*.old-*' \) -print)
  [ -z "$left" ] || fail "temporaries or locks left in the build directory: $left"
  "$LONGMIX_BIN" status "$work/buildq"
  pack_digest "$work/packq" > "$work/packq.sha256"
  diff "$work/local.sha256" "$work/packq.sha256" >&2 || fail "the requeued build's pack differs from the local build"
  say "requeued build's pack equals the local build"

  say "7 tasks in arrays of at most 3 (chunks with task offsets), fresh build directory"
  "$LONGMIX_BIN" slurm "$mixture" --build-dir "$work/build7" --tasks 7 --max-array-size 3 --cpus-per-task 1 \
    -o "$work/pack7" --submit > "$work/submit7.log"
  mapfile -t jobs < <(sed -n 's/^submitted [a-z_0-9]*: job \([0-9]*\)$/\1/p' "$work/submit7.log")
  ((${#jobs[@]} == 8)) || fail "expected 8 submitted jobs (index, 3 count chunks, 3 build chunks, merge), got ${#jobs[@]}"
  wait_for_jobs "${jobs[@]}"
  pack_digest "$work/pack7" > "$work/pack7.sha256"
  diff "$work/local.sha256" "$work/pack7.sha256" >&2 || fail "the 7-task chunked build's pack differs"
  say "7-task chunked build's pack equals the local build"
  say "PASS"
else
  # PENDING: the staged commands (longmix count/build --task-index/merge) are not in this binary yet.
  # Until they are, exercise the cluster end to end with what exists: the scripts `longmix slurm`
  # writes (syntax-checked), then an array job over the fixture shards (task i reads shards
  # i, i+N, ..., as datatrove's readers do) and a job depending on it (afterok) that sums the parts,
  # checked against the same sums computed locally.
  say "PENDING: 'longmix count/merge' not in $LONGMIX_BIN; running the cluster check with 'longmix stats'"
  "$LONGMIX_BIN" slurm "$mixture" --build-dir "$work/build" --tasks $tasks >/dev/null
  for f in "$work"/build/slurm/*; do bash -n "$f" || fail "$f is not valid bash"; done
  mapfile -t shards < <(find "$repo/Fixtures/redpajama" "$repo/Fixtures/oig" -name '*.jsonl.zst' | LC_ALL=C sort)
  mkdir -p "$work/parts" "$work/logs"
  cat > "$work/stats.sbatch" <<EOF
#!/bin/bash
#SBATCH --output=$work/logs/stats-%A_%a.out
set -euo pipefail
shards=(${shards[*]})
mine=()
for ((i = SLURM_ARRAY_TASK_ID; i < \${#shards[@]}; i += SLURM_ARRAY_TASK_COUNT)); do mine+=("\${shards[i]}"); done
"$LONGMIX_BIN" stats --json "\${mine[@]}" > "$work/parts/\$SLURM_ARRAY_TASK_ID.json.tmp"
mv "$work/parts/\$SLURM_ARRAY_TASK_ID.json.tmp" "$work/parts/\$SLURM_ARRAY_TASK_ID.json"
EOF
  cat > "$work/sum.sbatch" <<EOF
#!/bin/bash
#SBATCH --output=$work/logs/sum-%j.out
set -euo pipefail
python3 -c 'import json, sys; print(sum(json.load(open(f))["counts"]["documents"] for f in sys.argv[1:]))' $work/parts/*.json > "$work/sum.txt"
EOF
  array=$(sbatch --parsable --array=0-$((tasks - 1)) "$work/stats.sbatch"); jobs+=("${array%%;*}")
  sum=$(sbatch --parsable --dependency=afterok:"${jobs[0]}" "$work/sum.sbatch"); jobs+=("${sum%%;*}")
  wait_for_jobs "${jobs[@]}"
  parts=$(find "$work/parts" -name '*.json' | wc -l)
  ((parts == tasks)) || fail "$parts of $tasks array tasks wrote their part"
  want=$("$LONGMIX_BIN" stats --json "${shards[@]}" | python3 -c 'import json, sys; print(json.load(sys.stdin)["counts"]["documents"])')
  got=$(cat "$work/sum.txt")
  [ "$got" = "$want" ] || fail "the array's documents sum to $got, a local count gives $want"
  say "array of $tasks tasks + afterok job: $got documents over ${#shards[@]} shards, equal to the local count"
  say "PASS (cluster check only; the pack-equality check is PENDING the staged commands)"
fi
