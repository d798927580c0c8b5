#!/usr/bin/env bash
# Starts a single-machine Slurm cluster for `npm run bench` and the Slurm backend's tests
# (idempotent: a running cluster with this configuration is left alone).
# Installs Debian's slurm-wlm and munge when missing (needs root and apt), writes a small
# slurm.conf sized to this machine, starts munged, slurmctld and slurmd without systemd.
# Partitions: `bench` (default; the machine as one node) and `fedml`: two nodes, $HOST and
# $HOST-b, each a slurmd of its own on this machine, each declaring 2 GPUs as gres
# (`gpu:a100:2`) backed by placeholder device files, so that multi-node allocations,
# --gres and CUDA_VISIBLE_DEVICES behave as on a real GPU cluster.
# Exits non-zero with one line on stderr when that is impossible; the benchmark then skips
# its Slurm column and the tests skip (or fail, with FEDML_REQUIRE_SLURM=1) and say why.
set -euo pipefail

die() { echo "slurm-up: $*" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  [ "$(id -u)" = 0 ] || die "slurm-wlm/munge are not installed and installing needs root"
  command -v apt-get >/dev/null || die "slurm-wlm/munge are not installed and there is no apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends slurm-wlm munge >/tmp/slurm-up-apt.log 2>&1 ||
    { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends slurm-wlm munge >/tmp/slurm-up-apt.log 2>&1; } ||
    die "apt-get install slurm-wlm munge failed (see /tmp/slurm-up-apt.log)"
fi
[ "$(id -u)" = 0 ] || die "starting slurmctld/slurmd as configured here needs root"

HOST=$(hostname -s)
CPUS=$(nproc)
# Leave a quarter of memory (MB) to everything else.
MEM=$(awk '/MemTotal/ {print int($2 / 1024 * 3 / 4)}' /proc/meminfo)
CONF_DIR=/etc/slurm
STATE=/var/spool/slurmctld
SPOOL=/var/spool/slurmd
GPU_DIR=/run/fedml-slurm-gpus
mkdir -p "$CONF_DIR" "$STATE" "$SPOOL/$HOST" "$SPOOL/$HOST-b" /var/log/slurm /run/munge /var/lib/munge /var/log/munge /etc/munge "$GPU_DIR"
# Placeholder GPU device files: character devices like /dev/null (what gres File= must name).
for i in 0 1 2 3; do [ -e "$GPU_DIR/gpu$i" ] || mknod "$GPU_DIR/gpu$i" c 1 3 || die "mknod $GPU_DIR/gpu$i failed"; done

NEW_CONF=$(mktemp)
NEW_GRES=$(mktemp)
trap 'rm -f "$NEW_CONF" "$NEW_GRES"' EXIT
cat >"$NEW_CONF" <<CONF
ClusterName=bench
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL/%n
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd-%n.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
# Start jobs as soon as they are submitted (as a tuned cluster would), not at the next pass.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,default_queue_depth=1000
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MaxJobCount=100000
GresTypes=gpu
NodeName=$HOST NodeHostname=$HOST Port=6818 CPUs=$CPUS RealMemory=$MEM Gres=gpu:a100:2 State=UNKNOWN
NodeName=$HOST-b NodeHostname=$HOST Port=6828 CPUs=$CPUS RealMemory=$MEM Gres=gpu:a100:2 State=UNKNOWN
PartitionName=bench Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
PartitionName=fedml Nodes=$HOST,$HOST-b MaxTime=INFINITE State=UP
CONF
cat >"$NEW_GRES" <<GRES
AutoDetect=off
NodeName=$HOST Name=gpu Type=a100 File=$GPU_DIR/gpu[0-1]
NodeName=$HOST-b Name=gpu Type=a100 File=$GPU_DIR/gpu[2-3]
GRES

if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge 2>/dev/null || true
chmod 0400 /etc/munge/munge.key

if ! pgrep -x munged >/dev/null; then
  if id munge >/dev/null 2>&1; then
    su -s /bin/sh munge -c "munged" || munged --force || die "munged did not start"
  else
    munged --force || die "munged did not start"
  fi
fi

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
all_alive() { alive /run/slurmctld.pid && alive "/run/slurmd-$HOST.pid" && alive "/run/slurmd-$HOST-b.pid"; }
if cmp -s "$NEW_CONF" "$CONF_DIR/slurm.conf" && cmp -s "$NEW_GRES" "$CONF_DIR/gres.conf" && all_alive; then
  :
else
  # A config change needs restarted daemons; stopping them by their pid files only
  # (/run/slurmd.pid: an older version of this script's single slurmd).
  for pidfile in /run/slurmctld.pid /run/slurmd.pid "/run/slurmd-$HOST.pid" "/run/slurmd-$HOST-b.pid"; do
    if alive "$pidfile"; then
      pid=$(cat "$pidfile")
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
  cp "$NEW_CONF" "$CONF_DIR/slurm.conf"
  cp "$NEW_GRES" "$CONF_DIR/gres.conf"
  slurmctld || die "slurmctld did not start (see /var/log/slurm/slurmctld.log)"
  slurmd -N "$HOST" || die "slurmd did not start (see /var/log/slurm/slurmd-$HOST.log)"
  slurmd -N "$HOST-b" || die "the second slurmd did not start (see /var/log/slurm/slurmd-$HOST-b.log)"
fi

for _ in $(seq 1 30); do
  if [ "$(sinfo -h -N -p fedml -o %T 2>/dev/null | grep -Ec '^(idle|mixed|allocated)')" = 2 ]; then
    echo "slurm-up: cluster up on $HOST: partitions bench ($HOST) and fedml ($HOST, $HOST-b; 2 gres GPUs each), $CPUS CPUs, ${MEM} MB"
    exit 0
  fi
  scontrol update NodeName="$HOST,$HOST-b" State=RESUME >/dev/null 2>&1 || true
  sleep 1
done
die "the nodes did not become idle (sinfo: $(sinfo -h -N -o '%N %T %E' 2>&1 | tr '\n' ';'))"
