#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine for `npm run bench` (idempotent).
# Installs Debian's slurm-wlm and munge when missing (needs root and apt), writes a small
# slurm.conf sized to this machine, starts munged, slurmctld and slurmd without systemd.
# Exits non-zero with one line on stderr when that is impossible; the benchmark then skips
# its Slurm column and says why.
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
mkdir -p "$CONF_DIR" "$STATE" "$SPOOL" /var/log/slurm /run/munge /var/lib/munge /var/log/munge /etc/munge

cat >"$CONF_DIR/slurm.conf" <<CONF
ClusterName=bench
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE
SlurmdSpoolDir=$SPOOL
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
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
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=bench Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF

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

# A config change needs restarted daemons; stopping them by their pid files only.
for d in slurmctld slurmd; do
  if [ -f "/run/$d.pid" ] && kill -0 "$(cat /run/$d.pid)" 2>/dev/null; then
    kill "$(cat /run/$d.pid)" && sleep 1
  fi
done
slurmctld || die "slurmctld did not start (see /var/log/slurm/slurmctld.log)"
slurmd || die "slurmd did not start (see /var/log/slurm/slurmd.log)"

for _ in $(seq 1 30); do
  if sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then
    echo "slurm-up: single-node cluster up on $HOST ($CPUS CPUs, ${MEM} MB)"
    exit 0
  fi
  scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
  sleep 1
done
die "the node did not become idle (sinfo: $(sinfo -h -o '%T %E' 2>&1 | head -1))"
