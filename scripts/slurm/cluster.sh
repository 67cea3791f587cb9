#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the Slurm test tier and for trying `longmix slurm`.
#
#   bash scripts/slurm/cluster.sh start    install (apt) if missing, write the config, start the daemons,
#                                          wait until `sinfo` shows the node idle
#   bash scripts/slurm/cluster.sh stop     stop the daemons this script started (by their pids), only those
#   bash scripts/slurm/cluster.sh status   which daemons are ours and running, and `sinfo`; exit 0 when
#                                          slurmctld and slurmd started here are running
#   bash scripts/slurm/cluster.sh env      the line to eval so slurm commands talk to this cluster
#
# Everything lives under $LONGMIX_SLURM_HOME (default /tmp/longmix-slurm), which this script owns:
# etc/slurm.conf, state/, spool/, log/, run/ (pid files). The system's /etc/slurm is never read or
# written: every client command is pointed at the private config through SLURM_CONF, and the
# daemons listen on their own ports ($LONGMIX_SLURM_PORT and the next one, default 6917/6918) so a real
# cluster's daemons on this machine are not disturbed. Munge is the system's: the key
# /etc/munge/munge.key is created only when missing (1024 random bytes, owner munge, mode 400), and
# munged is started only when none answers on its socket. Needs root (SlurmUser=root, no systemd:
# the daemons are started directly). Idempotent: `start` on a running cluster only checks it.
set -euo pipefail

home=${LONGMIX_SLURM_HOME:-/tmp/longmix-slurm}
port=${LONGMIX_SLURM_PORT:-6917}
conf=$home/etc/slurm.conf
run=$home/run
host=$(hostname -s)
apt_packages=(slurmctld slurmd slurm-client munge)

say() { echo "cluster: $*" >&2; }
die() { echo "cluster: error: $*" >&2; exit 1; }

# The pid in $run/NAME.pid if that process is alive and is the daemon NAME (so a reused pid is never
# mistaken for ours); nothing otherwise.
our_pid() {
  local name=$1 pid
  pid=$(cat "$run/$name.pid" 2>/dev/null) || return 0
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] && echo "$pid"
  return 0
}

munge_answers() { munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; }

# Whether /etc/munge/munge.key existed before this run's install: a key the munge package generates
# while this script installs it (128 bytes) is replaced by the 1024-byte one; any other is kept.
key_was_there=0
[ -e /etc/munge/munge.key ] && key_was_there=1

install_packages() {
  local missing=() p
  for p in "${apt_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  say "installing apt packages: ${missing[*]}"
  # No service may start during the install (there is no init to start it, and this script
  # starts the daemons itself): a policy-rc.d saying so, only while installing, only if none exists.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; made_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { ((made_policy)) && rm -f "$policy"; die "apt-get install ${missing[*]} failed"; }
  ((made_policy)) && rm -f "$policy"
  return 0
}

ensure_munge_key() {
  local key=/etc/munge/munge.key
  install -d -o munge -g munge -m 700 /etc/munge
  if [ ! -e "$key" ] || ((!key_was_there)); then
    say "creating $key (1024 random bytes, owner munge, mode 400)"
    (umask 277 && head -c 1024 /dev/urandom > "$key.tmp")
    chown munge:munge "$key.tmp"; chmod 400 "$key.tmp"; mv "$key.tmp" "$key"
  fi
  [ "$(stat -c %U "$key")" = munge ] || die "$key exists but is not owned by munge (left as it is)"
}

start_munge() {
  if munge_answers; then
    [ -n "$(our_pid munged)" ] || say "munged already running (not started by this script; left alone)"
    return 0
  fi
  ensure_munge_key
  install -d -o munge -g munge -m 755 /run/munge /var/lib/munge /var/log/munge
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged
  local i
  for i in $(seq 50); do munge_answers && break; sleep 0.2; done
  munge_answers || die "munged did not answer (see /var/log/munge/munged.log)"
  cp /run/munge/munged.pid "$run/munged.pid"
}

write_config() {
  local cpus mem
  cpus=$(nproc)
  mem=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
  mkdir -p "$home/etc" "$home/state" "$home/spool" "$home/log" "$run"
  cat > "$conf.tmp" <<EOF
# Written by scripts/slurm/cluster.sh: a single-node cluster for LongMix's Slurm tier.
ClusterName=longmix
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
# Finished jobs stay visible to scontrol for an hour (there is no accounting database).
MinJobAge=3600
StateSaveLocation=$home/state
SlurmdSpoolDir=$home/spool
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$home/log/slurmctld.log
SlurmdLogFile=$home/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  if cmp -s "$conf.tmp" "$conf"; then rm "$conf.tmp"; return 0; fi
  if [ -n "$(our_pid slurmctld)$(our_pid slurmd)" ]; then
    rm "$conf.tmp"
    die "the running daemons use another configuration than this machine now gives (port, CPUs or memory changed); run stop, then start"
  fi
  mv "$conf.tmp" "$conf"
}

node_state() { SLURM_CONF=$conf sinfo -h -N -n "$host" -o %T 2>/dev/null | head -1; }

start() {
  [ "$(id -u)" -eq 0 ] || die "needs root (SlurmUser=root; the daemons are started directly)"
  install_packages
  mkdir -p "$run"
  start_munge
  write_config
  export SLURM_CONF=$conf
  if [ -z "$(our_pid slurmctld)" ]; then
    say "starting slurmctld (config $conf)"
    slurmctld -f "$conf" || die "slurmctld did not start (see $home/log/slurmctld.log)"
  fi
  if [ -z "$(our_pid slurmd)" ]; then
    say "starting slurmd"
    slurmd -f "$conf" -N "$host" || die "slurmd did not start (see $home/log/slurmd.log)"
  fi
  local i state=""
  for i in $(seq 120); do
    state=$(node_state)
    case $state in idle|mixed|allocated) break ;; esac
    sleep 0.5
  done
  case $state in
    idle|mixed|allocated) say "node $host is $state; use: export SLURM_CONF=$conf" ;;
    *) die "node $host is '${state:-unknown}' after 60 s (logs in $home/log)" ;;
  esac
}

stop() {
  local name pid i
  for name in slurmd slurmctld munged; do
    pid=$(our_pid "$name")
    if [ -z "$pid" ]; then rm -f "$run/$name.pid"; continue; fi
    say "stopping $name (pid $pid)"
    kill "$pid"
    for i in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    if [ -d "/proc/$pid" ]; then say "$name (pid $pid) still running after 10 s; sending KILL"; kill -9 "$pid"; fi
    rm -f "$run/$name.pid"
  done
}

status() {
  local name pid up=0
  for name in munged slurmctld slurmd; do
    pid=$(our_pid "$name")
    if [ -n "$pid" ]; then echo "$name: running (pid $pid, started by this script)"; up=1
    else echo "$name: not running from this script"; fi
  done
  if [ -e "$conf" ] && ((up)); then SLURM_CONF=$conf sinfo -N -l || true; fi
  [ -n "$(our_pid slurmctld)" ] && [ -n "$(our_pid slurmd)" ]
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) echo "export SLURM_CONF=$conf" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
