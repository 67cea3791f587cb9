#!/usr/bin/env bash
# Kill-and-signal test: repeated random kill -9 and SIGINT (and SIGTERM) during `longmix build`
# and `longmix decontam index`, then an uninterrupted rerun. Checks, after every interruption:
# a SIGINT/SIGTERM'd run exits 130/143 and leaves no temporary of its own (none named with its
# pid); every temporary still there belongs to an earlier kill -9'd run (a run stopped before it
# reached an output has not yet removed that output's stale temporaries); after a run that
# finished, no temporary is left beside its outputs; a published pack (if any) still verifies;
# and at the end: the rerun's pack, Megatron export and index equal those of an uninterrupted
# run, and no temporary of any run is left.
#
#   bash scripts/kill_signal_test.sh [ROUNDS]        # default 24; LONGMIX_BIN=... to pick a binary
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-24}
longmix=${LONGMIX_BIN:-.build/debug/longmix}
[ -x "$longmix" ] || swift build --product longmix
work=$(mktemp -d /tmp/longmix-kill-signal.XXXXXX)
trap 'rm -rf "$work"' EXIT
fixtures=$(pwd)/Fixtures

sed -e "s|^tokenizer:.*|tokenizer: $fixtures/tokenizer/fixture-bpe.model|" \
    -e "s|^data_root:.*|data_root: $fixtures|" \
    -e "s|^  index:.*|  index: $work/build-index.sqlite|" \
    -e "s|^  test_sets:.*|  test_sets: [$fixtures/helm]|" \
    Mixtures/fixtures/pretrain-32k.yaml > "$work/mix.yaml"

build() { "$longmix" build "$work/mix.yaml" --threads 2 --exact -o "$1" --megatron "$2"; }
import_() { "$longmix" decontam index --keep-going --index "$1" --protocol helm "$fixtures/helm" "$fixtures/decontam"; }
temporaries() { find "$work" \( -name '*.partial-*' -o -name '*.tmp-*' -o -name '*.old-*' \) -print; }
# The pid in a temporary's name (`NAME.KIND-HOST-PID`).
pid_of() { basename "$1" | sed -n 's/.*\.\(partial\|tmp\|old\)-[^-]*-\([0-9]*\)$/\2/p'; }
killed_pids=" "
rows() { sed -n 's/^index now \([0-9]*\) n-gram rows.*/\1/p'; }

echo "reference runs (uninterrupted)"
build "$work/ref" "$work/ref-megatron" > /dev/null
reference_rows=$(import_ "$work/ref.sqlite" 2> /dev/null | rows)
# How long each takes, to spread the signals over the whole run.
start=$(date +%s%N); build "$work/timing" "$work/timing-megatron" > /dev/null; build_ms=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N); import_ "$work/timing.sqlite" > /dev/null 2>&1; import_ms=$(( ($(date +%s%N) - start) / 1000000 ))
rm -rf "$work/timing" "$work/timing-megatron" "$work"/timing.sqlite*
echo "build ${build_ms} ms, import ${import_ms} ms"

kills=0; interrupts=0; terms=0; finished=0; failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
for round in $(seq 1 "$rounds"); do
    what=$((RANDOM % 2))     # 0 build, 1 import
    how=$((RANDOM % 3))      # 0 kill -9, 1 SIGINT, 2 SIGTERM
    # The signal must reach longmix itself, so it is started directly (not through a function).
    if [ $what = 0 ]; then total=$build_ms
        "$longmix" build "$work/mix.yaml" --threads 2 --exact -o "$work/out" --megatron "$work/megatron" > /dev/null 2>&1 & pid=$!
    else total=$import_ms
        "$longmix" decontam index --keep-going --index "$work/index.sqlite" --protocol helm "$fixtures/helm" "$fixtures/decontam" > /dev/null 2>&1 & pid=$!
    fi
    delay_ms=$(( RANDOM % (total + 1) ))
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    signal=(KILL INT TERM); signal=${signal[$how]}
    kill -s "$signal" "$pid" 2>/dev/null || true
    set +e; wait "$pid" 2> /dev/null; status=$?; set -e
    if [ $status = 0 ]; then finished=$((finished + 1))
        # A finished run removed the stale temporaries beside each of its outputs.
        if [ $what = 0 ]; then beside=$(find "$work" -maxdepth 1 \( -name '.out.*' -o -name '.megatron.*' -o -name 'out.*' \) -print)
            [ -z "$beside" ] || fail "round $round: a finished build left temporaries beside its outputs: $beside"
        fi
    else
        case $signal in KILL) kills=$((kills + 1)); killed_pids+="$pid " ;; INT) interrupts=$((interrupts + 1)) ;; TERM) terms=$((terms + 1)) ;; esac
        case $signal in
            INT) [ $status = 130 ] || fail "round $round: SIGINT exit status $status, expected 130" ;;
            TERM) [ $status = 143 ] || fail "round $round: SIGTERM exit status $status, expected 143" ;;
        esac
    fi
    if [ "$signal" != KILL ] || [ $status = 0 ]; then
        for t in $(temporaries); do
            owner=$(pid_of "$t")
            if [ "$owner" = "$pid" ]; then fail "round $round: pid $pid ($signal, exit $status) left its own temporary $t"
            elif [[ "$killed_pids" != *" $owner "* ]]; then fail "round $round: $t is not from a kill -9'd run (killed:$killed_pids)"
            fi
        done
    fi
    if [ -d "$work/out" ] && ! "$longmix" inspect "$work/out" --verify > /dev/null 2>&1; then
        fail "round $round: the published pack does not verify after $signal"
    fi
done

echo "rerun (uninterrupted)"
build "$work/out" "$work/megatron" > /dev/null
diff -r "$work/ref" "$work/out" > /dev/null || fail "rerun pack differs from the uninterrupted one"
for f in "$work"/ref-megatron/*.bin "$work"/ref-megatron/*.idx; do
    cmp -s "$f" "$work/megatron/$(basename "$f")" || fail "Megatron $(basename "$f") differs"
done
rerun_rows=$(import_ "$work/index.sqlite" 2> /dev/null | rows)
[ "$rerun_rows" = "$reference_rows" ] || fail "index has $rerun_rows n-gram rows after the rerun, $reference_rows uninterrupted"
python3 - "$work/index.sqlite" <<'PY' || fail "index integrity check"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
PY
left=$(temporaries)
[ -z "$left" ] || fail "temporaries left after the rerun: $left"
echo "rounds $rounds: kill -9 $kills, SIGINT $interrupts, SIGTERM $terms, finished before the signal $finished; failures $failures"
[ $failures = 0 ]
