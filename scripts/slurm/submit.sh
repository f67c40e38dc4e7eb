#!/bin/bash
# submit.sh: the whole pipeline as a chain of Slurm jobs (docs/pipeline.md,
# "On a cluster"):
#
#   prep   an array job, one --shard-range per task (prep.sbatch)
#   merge  after every task of the array, whatever their exit (afterany): it
#          refuses while shards are missing, naming the missing ranges
#          (merge.sbatch); with afterok a failed task would leave it pending
#          for ever, silent
#   train  afterok merge: one task per GPU, --requeue, --signal=B:TERM@120,
#          --resume after every preemption (train.sbatch)
#   eval   afterok train (eval.sbatch)
#
# Dependent jobs are submitted with --kill-on-invalid-dep=yes: when a stage
# fails, the ones after it are cancelled rather than left pending. A stage
# that is already done is not submitted again (DATA/dataset.json;
# RUN/.train.done newer than RUN/.train-params; RUN/eval/report.json newer
# than both, the stamps Makefile.pipeline uses), and neither is one whose job
# is still queued or running (found by its job name, which holds a hash of
# DATA or RUN): running this command twice submits each stage at most once.
#
# Settings (environment variables), with defaults:
#   DATA                   the dataset directory, on a file system every node mounts (required)
#   RUN                    the run directory, shared (required for train and eval)
#   PREP_ARGS              alexnet-prep's options but --output, --shard-range, --jobs
#                          (required unless DATA is complete)
#   PREP_TASKS             tasks of the prep array                          [8]
#   PREP_SHARDS_PER_TASK   shards per task; the last task goes on to the end   [16]
#                          (ILSVRC2012 at --shard-size 1024: 1,252 + 49 = 1,301 shards)
#   PREP_CPUS              CPUs per prep task (its --jobs)                   [4]
#   TRAIN_ARGS             alexnet-train's options but --data, --run, --resume
#   TRAIN_NODES            nodes of the training job                         [1]
#   TRAIN_TASKS_PER_NODE   ranks per node, one per GPU                        [1]
#   TRAIN_GPUS_PER_NODE    GPUs per node (--gpus-per-node; 0: none)           [0]
#   TRAIN_CPUS_PER_TASK    CPUs per rank (loader threads, CPU training)       [4]
#   TRAIN_TIME             the training job's time limit (sbatch --time)      [the partition's]
#   TRAIN_LAUNCH           the launcher inside the job                        [srun --mpi=pmix]
#   EVAL_ARGS              alexnet-eval's options but --data, --run
#   SBATCH_ARGS            options for every sbatch (e.g. "--partition=gpu --account=me")
#   PREP_SBATCH, TRAIN_SBATCH, EVAL_SBATCH   options for one stage's jobs
#   SLURM_LOGS             where the jobs' logs go                            [RUN/slurm, else DATA.slurm]
#   ALEXNET_BUILD          the build directory (shared with the nodes)         [build/pipeline]
#   STAGES                 which stages to consider                           ["prep train eval"]
# Prints one line per stage: its job id (or why nothing was submitted) and
# where its outputs and logs are. Exit 1 (with the reason) when a setting is
# missing or sbatch refuses.
set -euo pipefail
set -f # the options in PREP_ARGS, TRAIN_ARGS, EVAL_ARGS are never globbed
ALEXNET_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export ALEXNET_ROOT
ALEXNET_STAGE=submit
[ -z "${ALEXNET_BUILD:-}" ] || ALEXNET_BUILD=$(realpath -ms "$ALEXNET_BUILD") # the jobs run elsewhere
. "$ALEXNET_ROOT/scripts/slurm/lib.sh"
command -v sbatch >/dev/null 2>&1 || slurm_die "sbatch not found: run this on a Slurm cluster's login node"
slurm_need DATA
stages=" ${STAGES:-prep train eval} "
# Absolute paths, made as Makefile.pipeline's abspath makes them (symbolic links kept).
DATA=$(realpath -ms "$DATA")
[ -z "${RUN:-}" ] || RUN=$(realpath -ms "$RUN")
logs=$DATA.slurm
[ -z "${RUN:-}" ] || logs=$RUN/slurm
SLURM_LOGS=$(realpath -ms "${SLURM_LOGS:-$logs}")
export DATA RUN ALEXNET_BUILD SLURM_LOGS PREP_ARGS="${PREP_ARGS:-}" TRAIN_ARGS="${TRAIN_ARGS:-}" EVAL_ARGS="${EVAL_ARGS:-}"
mkdir -p "$SLURM_LOGS"
read -r -a common <<<"${SBATCH_ARGS:-}"

tag() { printf '%s' "$1" | sha256sum | cut -c1-10; }
# queued NAME: the id of this user's pending or running job of that name, or nothing.
queued() { squeue -h -u "$(id -un)" -n "$1" -t PENDING,RUNNING,CONFIGURING,REQUEUED,SUSPENDED -o %i | head -n 1; }
# after KIND JOB: a --dependency option, or nothing when there is no job to wait for.
after() { [ -z "$2" ] || echo "--dependency=$1:$2 --kill-on-invalid-dep=yes"; }
# Writes FILE when its content changes, as Makefile.pipeline does.
write_if_changed() {
    local file=$1
    shift
    mkdir -p "$(dirname "$file")"
    printf '%s\n' "$@" >"$file.new"
    if cmp -s "$file.new" "$file"; then rm "$file.new"; else mv "$file.new" "$file"; fi
}
submit() { sbatch --parsable "${common[@]}" "$@" | cut -d';' -f1; }

merge_job=""
if [[ $stages == *" prep "* ]]; then
    slurm_need_bin "$PREP_BIN"
    name=alexnet-prep-$(tag "$DATA")
    if [ -f "$DATA/dataset.json" ]; then
        echo "prep:  $DATA is complete (dataset.json): nothing to submit"
    elif merge_job=$(queued "$name-merge") && [ -n "$merge_job" ]; then
        echo "prep:  already queued: merge job $merge_job for $DATA"
    else
        slurm_need PREP_ARGS
        read -r -a extra <<<"${PREP_SBATCH:-}"
        tasks=${PREP_TASKS:-8}
        array_job=$(submit --job-name="$name" --array="0-$((tasks - 1))" --cpus-per-task="${PREP_CPUS:-4}" \
            --output="$SLURM_LOGS/prep-%A_%a.out" "${extra[@]}" "$ALEXNET_ROOT/scripts/slurm/prep.sbatch")
        # shellcheck disable=SC2046 # after gives two options
        merge_job=$(PREP_ARRAY_JOB=$array_job submit --job-name="$name-merge" $(after afterany "$array_job") \
            --output="$SLURM_LOGS/merge-%j.out" "${extra[@]}" "$ALEXNET_ROOT/scripts/slurm/merge.sbatch")
        echo "prep:  array job $array_job ($tasks tasks of ${PREP_SHARDS_PER_TASK:-16} shards), merge job $merge_job" \
            "-> $DATA; logs $SLURM_LOGS/prep-${array_job}_*.out, merge-$merge_job.out"
    fi
fi

train_job=""
if [[ $stages == *" train "* ]]; then
    slurm_need RUN
    slurm_need_bin "$TRAIN_BIN"
    # shellcheck disable=SC2116,SC2086 # spaces collapsed, as make's $(strip) does
    write_if_changed "$RUN/.train-params" "data=$DATA" "$(echo $TRAIN_ARGS)"
    name=alexnet-train-$(tag "$RUN")
    if slurm_train_done; then
        echo "train: $RUN is trained (.train.done): nothing to submit"
    elif train_job=$(queued "$name") && [ -n "$train_job" ]; then
        echo "train: already queued: job $train_job for $RUN"
    else
        read -r -a extra <<<"${TRAIN_SBATCH:-}"
        gpus=()
        [ "${TRAIN_GPUS_PER_NODE:-0}" -eq 0 ] || gpus=(--gpus-per-node="$TRAIN_GPUS_PER_NODE")
        time_limit=()
        [ -z "${TRAIN_TIME:-}" ] || time_limit=(--time="$TRAIN_TIME")
        # shellcheck disable=SC2046
        train_job=$(submit --job-name="$name" $(after afterok "$merge_job") --nodes="${TRAIN_NODES:-1}" \
            --ntasks-per-node="${TRAIN_TASKS_PER_NODE:-1}" --cpus-per-task="${TRAIN_CPUS_PER_TASK:-4}" \
            "${gpus[@]}" "${time_limit[@]}" --output="$SLURM_LOGS/train-%j.out" "${extra[@]}" \
            "$ALEXNET_ROOT/scripts/slurm/train.sbatch")
        echo "train: job $train_job (${TRAIN_NODES:-1} node(s) x ${TRAIN_TASKS_PER_NODE:-1} task(s))" \
            "${merge_job:+after merge job $merge_job }-> $RUN; log $SLURM_LOGS/train-$train_job.out"
    fi
fi

if [[ $stages == *" eval "* ]]; then
    slurm_need RUN
    slurm_need_bin "$EVAL_BIN"
    # shellcheck disable=SC2116,SC2086
    write_if_changed "$RUN/eval/.eval-params" "$(echo $EVAL_ARGS)"
    name=alexnet-eval-$(tag "$RUN")
    if [ -z "$train_job" ] && slurm_eval_done; then
        echo "eval:  $RUN is scored (eval/report.json): nothing to submit"
    elif eval_job=$(queued "$name") && [ -n "$eval_job" ]; then
        echo "eval:  already queued: job $eval_job for $RUN"
    else
        read -r -a extra <<<"${EVAL_SBATCH:-}"
        # shellcheck disable=SC2046
        eval_job=$(submit --job-name="$name" $(after afterok "$train_job") --cpus-per-task="${TRAIN_CPUS_PER_TASK:-4}" \
            --output="$SLURM_LOGS/eval-%j.out" "${extra[@]}" "$ALEXNET_ROOT/scripts/slurm/eval.sbatch")
        echo "eval:  job $eval_job ${train_job:+after train job $train_job }-> $RUN/eval/report.json," \
            "$RUN/report.html; log $SLURM_LOGS/eval-$eval_job.out"
    fi
fi
