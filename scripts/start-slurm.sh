#!/usr/bin/env bash
# Starts a single-node Slurm (controller and compute daemon on this machine, munge for authentication) for the
# staged data build's tests, unless one already answers. Needs root and the slurm-wlm and munge packages
# (scripts/install-test-deps.sh installs them). Leaves an existing /etc/slurm/slurm.conf alone.
set -euo pipefail

if timeout 5 sinfo -h >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "start-slurm: no Slurm answers and this is not root, so none can be started here" >&2
  exit 1
fi

host=$(hostname)
mkdir -p /var/spool/slurmd /var/spool/slurmctld /var/log/slurm /run/munge /etc/slurm
chown munge:munge /run/munge
[ -f /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
if [ ! -f /etc/slurm/slurm.conf ]; then
  # No cgroups in containers: processes are tracked by /proc, and tasks are not bound to cores.
  cat > /etc/slurm/slurm.conf <<CONF
ClusterName=codelm
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmUser=root
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
NodeName=$host CPUs=$(nproc) RealMemory=$(( $(free -m | awk '/^Mem:/ {print $2}') / 2 )) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
fi
pgrep -x munged >/dev/null || su -s /bin/sh munge -c /usr/sbin/munged
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 1 30); do
  if timeout 5 sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mix|alloc'; then echo "start-slurm: Slurm is up on $host" >&2; exit 0; fi
  sleep 1
done
echo "start-slurm: Slurm did not come up; see /var/log/slurm/" >&2
exit 1
