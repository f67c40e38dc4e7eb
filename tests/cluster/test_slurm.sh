#!/bin/bash
# test_slurm.sh BUILD_DIR: the pipeline through a real Slurm (docs/pipeline.md,
# "On a cluster"). Starts a single-node cluster of its own (munged,
# slurmctld, slurmd from Debian's slurm-wlm packages, a generated slurm.conf
# on free local ports, everything under one temporary directory), submits
# with scripts/slurm/submit.sh, and checks:
#   - an array task made to fail (its shard's name taken by a directory):
#     merge refuses naming the range, train and eval are cancelled;
#   - resubmitted: only the missing work runs, and the dataset id and the
#     shards equal a local alexnet-prep of the same input;
#   - the trained weights equal, bit for bit, `mpirun -np 2` run directly;
#   - a second submission of the finished chain submits nothing;
#   - a run requeued mid-training (`scontrol requeue`) and then warned of its
#     time limit (SIGTERM to the batch script, as --signal=B:TERM@120 does)
#     ends bit for bit equal to an uninterrupted run;
#   - a second train job on that run while it trains fails, naming the holder;
#     metrics.csv stays well-formed; the requeued job, finding the lock of a
#     trainer on a lost node, waits and takes it over once it is stale;
#   - at the end (whatever happened: a trap) the daemons are stopped and no
#     process of the cluster is left.
# Exit 77 (skipped) where the packages are absent (scripts/install-deps.sh
# installs them with ALEXNET_CLUSTER_TESTS=1, as CI does) or without root
# (slurmd runs jobs as their user).
set -euo pipefail
BUILD=$(realpath "$1")
SOURCE=$(cd "$(dirname "$0")/../.." && pwd)
for program in munged slurmctld slurmd sbatch squeue scontrol scancel mpirun; do
    command -v "$program" >/dev/null 2>&1 || {
        echo "SKIP: $program is not installed (ALEXNET_CLUSTER_TESTS=1 scripts/install-deps.sh installs Slurm and munge)"
        exit 77
    }
done
FASHION=/usr/share/datasets/fashion-mnist
[ -f "$FASHION/train-images-idx3-ubyte.gz" ] || { echo "SKIP: $FASHION is missing (dataset-fashion-mnist)"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: a Slurm of its own needs root (slurmd)"; exit 77; }
started=$(date +%s)

WORK=$(mktemp -d /tmp/alexnet-slurm.XXXXXX)
chmod 755 "$WORK"
# Every process of this cluster carries this variable: the end checks that none is left.
export ALEXNET_SLURM_TEST_CLUSTER=$WORK
export SLURM_CONF=$WORK/slurm.conf ALEXNET_ROOT=$SOURCE
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
MUNGE_SOCKET=$WORK/munge/munge.socket

fail() { echo "FAIL: $*" >&2; exit 1; }

# The processes (other than this script and its helpers) that carry the cluster's variable.
cluster_processes() {
    local p
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" != $$ ] && [ "$p" != "$BASHPID" ] || continue
        grep -qsz "^ALEXNET_SLURM_TEST_CLUSTER=$WORK\$" "/proc/$p/environ" 2>/dev/null || continue
        [ "$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)" != $$ ] || continue # this script's own helper
        echo "$p"
    done
}

# Stops everything this test started: jobs, slurmd, slurmctld, munged; then
# kills (by PID) whatever is left and says so. Returns 1 if anything was left.
stopped=0
stop_cluster() {
    local left=0 i
    [ $stopped -eq 0 ] || return 0
    stopped=1
    if [ -f "$WORK/slurmctld.pid" ]; then
        scancel --quiet --user=root 2>/dev/null || true
        for i in $(seq 100); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
        scontrol shutdown 2>/dev/null || true
    fi
    for pidfile in "$WORK/slurmd.pid" "$WORK/slurmctld.pid"; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    done
    [ -S "$MUNGE_SOCKET" ] && munged --stop --socket="$MUNGE_SOCKET" >/dev/null 2>&1
    for i in $(seq 50); do [ -z "$(cluster_processes)" ] && break; sleep 0.1; done
    for pid in $(cluster_processes); do
        echo "left running after the cluster stopped: $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" >&2
        kill -9 "$pid" 2>/dev/null || true
        left=1
    done
    return $left
}

cleanup() {
    status=$?
    trap - EXIT INT TERM
    if ! stop_cluster; then
        echo "FAIL: processes of the cluster were left running" >&2
        status=1
    fi
    if [ $status -ne 0 ]; then
        for f in "$WORK"/logs/*.out "$WORK"/log/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
    fi
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ the cluster
free_ports() { python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])'; }
read -r ctld_port slurmd_port <<<"$(free_ports)"
host=$(hostname -s)
mkdir -p "$WORK/munge" "$WORK/state" "$WORK/spool" "$WORK/log" "$WORK/logs" /run/munge
chmod 755 "$WORK/munge"
head -c 1024 /dev/urandom >"$WORK/munge/munge.key"
chmod 400 "$WORK/munge/munge.key"
munged --force --socket="$MUNGE_SOCKET" --key-file="$WORK/munge/munge.key" --pid-file="$WORK/munge/munged.pid" \
    --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/munged.seed" || fail "munged did not start"
cat >"$SLURM_CONF" <<CONF
ClusterName=alexnettest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
MinJobAge=600
KillWait=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=8 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -i || fail "slurmctld did not start"
slurmd || fail "slurmd did not start"
for i in $(seq 150); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 0.2; done
sinfo -h -o %T | grep -q idle || fail "the node did not become idle"
echo "cluster up in $(($(date +%s) - started)) s (slurmctld port $ctld_port, slurmd port $slurmd_port)"

# ------------------------------------------------------------------ helpers
# job_field JOB FIELD: a field of `scontrol show job` (JobState, Restarts, ExitCode, ...).
job_field() { scontrol show job "$1" 2>/dev/null | grep -o "\b$2=[^ ]*" | head -n 1 | cut -d= -f2; }
# wait_job JOB: until it has ended (a final state); prints the state.
wait_job() {
    local state i
    for i in $(seq 900); do
        state=$(job_field "$1" JobState)
        case "$state" in
        COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) echo "$state"; return 0 ;;
        esac
        sleep 0.2
    done
    fail "job $1 did not end (state $state)"
}
# The global step of RUN's latest checkpoint (0 when none).
latest_step() {
    sed -n 's/^ckpt-[0-9]*-0*\([0-9][0-9]*\)\.h5$/\1/p' "$1/checkpoints/latest" 2>/dev/null || echo 0
}
wait_for_step() {
    local i s
    for i in $(seq 3500); do
        s=$(latest_step "$1")
        [ -n "$s" ] && [ "$s" -ge "$2" ] && return 0
        sleep 0.02
    done
    fail "$1 has no checkpoint at step $2"
}
# release_requeued JOB N: waits until JOB is pending after its N-th requeue, its previous
# start completely ended, and lets it start sooner than its begin time (Slurm holds a
# requeued job back until the credential of its previous start expires, 2 minutes by
# default; that credential is revoked with a time in whole seconds, so the new start waits
# for the next second, or slurmd refuses it).
release_requeued() {
    local i
    for i in $(seq 600); do
        [ "$(job_field "$1" Restarts)" -ge "$2" ] && [ "$(squeue -h -j "$1" -o %t)" = PD ] && break
        sleep 0.1
    done
    [ "$(job_field "$1" Restarts)" -ge "$2" ] || fail "job $1 was not requeued (restart $2)"
    sleep 2
    scontrol update JobId="$1" StartTime=now
    for i in $(seq 600); do [ "$(job_field "$1" JobState)" = RUNNING ] && return 0; sleep 0.1; done
    fail "job $1 did not start again after its requeue"
}
latest() { echo "$1/checkpoints/$(cat "$1/checkpoints/latest")"; }
well_formed() {
    awk -F, 'NR == 1 { if ($0 !~ /^split,epoch,step,/) exit 1; next }
             NF != 9 || ($1 != "train" && $1 != "val") { print "bad row " NR ": " $0; exit 1 }' "$1/metrics.csv"
}
submit() { "$SOURCE/scripts/slurm/submit.sh" | tee -a "$WORK/submit.log"; }
job_of() { sed -n "s/^$1: *job \([0-9][0-9]*\) .*/\1/p" "$2" | tail -n 1; }

export ALEXNET_BUILD=$BUILD SLURM_LOGS=$WORK/logs DATA=$WORK/data RUN=$WORK/run
export PREP_ARGS="--source idx --input $FASHION --train-limit 600 --val-limit 100 --shard-size 100 --seed 1"
export PREP_TASKS=4 PREP_SHARDS_PER_TASK=2 PREP_CPUS=1 # 7 shards: 0:2, 2:4, 4:6, 6:end
export TRAIN_TASKS_PER_NODE=2 TRAIN_CPUS_PER_TASK=1
common_train="--width 0.0625 --batch 16 --seed 1 --threads 1 --loader-threads 1 --checkpoint-minutes 0 --quiet"
export TRAIN_ARGS="$common_train --epochs 1 --max-steps 12 --val-limit 50 --checkpoint-steps 4"
export EVAL_ARGS="--batch 8 --device cpu --limit 40 --quiet"

# ------------------------------------------------------------------ a failed array task
mkdir -p "$DATA/train-00002-of-00006.h5" # shard 2 cannot be written: task 1 (2:4) fails
submit >"$WORK/submit1.out"
cat "$WORK/submit1.out"
merge_job=$(sed -n 's/^prep: .*merge job \([0-9]*\).*/\1/p' "$WORK/submit1.out")
train_job=$(job_of train "$WORK/submit1.out")
eval_job=$(job_of eval "$WORK/submit1.out")
[ -n "$merge_job" ] && [ -n "$train_job" ] && [ -n "$eval_job" ] || fail "submit.sh did not submit the chain"
[ "$(wait_job "$merge_job")" = FAILED ] || fail "merge did not fail with a prep task failed"
grep -q "shards are missing: --shard-range 2:4 " "$WORK/logs/merge-$merge_job.out" ||
    fail "merge's log does not name the missing range 2:4"
# Dependents of a failed job are ended without running (--kill-on-invalid-dep; Slurm 22.05 says FAILED).
for j in "$train_job" "$eval_job"; do
    state=$(wait_job "$j")
    [ "$state" = CANCELLED ] || [ "$state" = FAILED ] || fail "job $j was not ended after the failed merge ($state)"
    [ ! -e "$WORK/logs/train-$j.out" ] && [ ! -e "$WORK/logs/eval-$j.out" ] || fail "job $j ran after the failed merge"
done
[ ! -e "$DATA/dataset.json" ] || fail "a dataset.json was written with a shard missing"

# ------------------------------------------------------------------ resubmitted: the whole chain
rmdir "$DATA/train-00002-of-00006.h5"
submit >"$WORK/submit2.out"
cat "$WORK/submit2.out"
eval_job=$(job_of eval "$WORK/submit2.out")
[ -n "$eval_job" ] || fail "the second submission did not submit eval"
[ "$(wait_job "$eval_job")" = COMPLETED ] || fail "the chain did not complete"
[ -f "$RUN/eval/report.json" ] && [ -f "$RUN/report.html" ] && [ -f "$RUN/.train.done" ] || fail "outputs missing"

# The same input prepared locally: the same dataset id, the same shards.
"$BUILD/prep/alexnet-prep" $PREP_ARGS --output "$WORK/local-data" --jobs 2 --quiet
id() { sed -n 's/^ *"dataset_id": "\([^"]*\)".*/\1/p' "$1/dataset.json" | head -n 1; }
[ -n "$(id "$DATA")" ] && [ "$(id "$DATA")" = "$(id "$WORK/local-data")" ] ||
    fail "dataset id $(id "$DATA") under Slurm, $(id "$WORK/local-data") locally"
for f in "$WORK"/local-data/*.h5; do cmp -s "$f" "$DATA/$(basename "$f")" || fail "$(basename "$f") differs"; done

# The same training started directly with mpirun -np 2: bit for bit.
# shellcheck disable=SC2086
mpirun -np 2 "$BUILD/train/alexnet-train" --data "$DATA" --run "$WORK/direct" $TRAIN_ARGS
"$BUILD/tests/train/compare_checkpoints" "$(latest "$WORK/direct")" "$(latest "$RUN")" ||
    fail "the weights trained under Slurm differ from mpirun -np 2"
[ "$(latest_step "$RUN")" -eq 12 ] || fail "the Slurm run ended at step $(latest_step "$RUN"), not 12"

# A second submission of the finished chain: nothing.
submit >"$WORK/submit3.out"
cat "$WORK/submit3.out"
[ "$(grep -c 'nothing to submit' "$WORK/submit3.out")" -eq 3 ] || fail "a finished chain was submitted again"
[ -z "$(squeue -h)" ] || fail "jobs were queued by the second submission: $(squeue -h)"

# ------------------------------------------------------------------ preemption
export RUN=$WORK/requeued STAGES=train
export TRAIN_ARGS="$common_train --epochs 2 --max-steps 60 --val-limit 50 --checkpoint-steps 2"
submit >"$WORK/submit4.out"
job=$(job_of train "$WORK/submit4.out")
[ -n "$job" ] || fail "the train job was not submitted"
wait_for_step "$RUN" 6
# A second job on the same run (a double submission, not through submit.sh): refused.
second=$(sbatch --parsable --ntasks=2 --cpus-per-task=1 --output="$WORK/logs/second-%j.out" \
    "$SOURCE/scripts/slurm/train.sbatch")
[ "$(wait_job "$second")" = FAILED ] || fail "a second train job on a run in use did not fail"
grep -q "in use by another alexnet-train: PID [0-9]* on host" "$WORK/logs/second-$second.out" ||
    fail "the second job's log does not name the holder"
# A requeue in the middle of training.
step=$(latest_step "$RUN")
[ "$step" -lt 40 ] || fail "training reached step $step before the requeue"
scontrol requeue "$job"
# While it waits to start again, the run gets the lock of a trainer on a lost node, 285 s
# without a heartbeat: the requeued start is refused, retries 30 s later, and takes it over.
for i in $(seq 300); do [ "$(squeue -h -j "$job" -o %t)" = PD ] && break; sleep 0.1; done
[ ! -e "$RUN/lock" ] || fail "the stopped trainer left its lock"
printf 'pid 4242\nhost lost-node.example\nstarted 2026-01-01T00:00:00Z\n' >"$RUN/lock"
touch -d '-285 seconds' "$RUN/lock"
release_requeued "$job" 1
# The time-limit warning, as --signal=B:TERM@120 gives it: SIGTERM to the batch script alone.
wait_for_step "$RUN" $((step + 10))
scancel --batch --signal=TERM "$job"
release_requeued "$job" 2
[ "$(wait_job "$job")" = COMPLETED ] || fail "the requeued job did not complete"
grep -q "stopped for the time limit" "$WORK/logs/train-$job.out" || fail "the time-limit path was not taken"
grep -q "trying again in 30 s" "$WORK/logs/train-$job.out" && grep -q "took over the lock .*lost-node.example" \
    "$WORK/logs/train-$job.out" || fail "the requeued job did not wait for the lost node's lock and take it over"
[ "$(grep -c '^train: job .* (start ' "$WORK/logs/train-$job.out")" -ge 3 ] || fail "the job did not start 3 times"
# shellcheck disable=SC2086
mpirun -np 2 "$BUILD/train/alexnet-train" --data "$DATA" --run "$WORK/uninterrupted" $TRAIN_ARGS
"$BUILD/tests/train/compare_checkpoints" "$(latest "$WORK/uninterrupted")" "$(latest "$RUN")" ||
    fail "the requeued run differs from the uninterrupted one"
well_formed "$RUN" || fail "metrics.csv of the requeued run is garbled"
[ "$(grep -c '^train,' "$RUN/metrics.csv")" -eq "$(grep -c '^train,' "$WORK/uninterrupted/metrics.csv")" ] ||
    fail "metrics.csv of the requeued run has other rows than the uninterrupted run's"

stop_cluster || fail "processes of the cluster were left running"
echo "PASS in $(($(date +%s) - started)) s"
