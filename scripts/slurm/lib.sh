# lib.sh: what the Slurm scripts of scripts/slurm share: where the programs
# are, the settings every stage needs, and failing loudly. Sourced by
# prep.sbatch, merge.sbatch, train.sbatch, eval.sbatch and submit.sh, which
# find it through ALEXNET_ROOT (sbatch runs a copy of the script, so the
# script's own path says nothing).

ALEXNET_BUILD=${ALEXNET_BUILD:-$ALEXNET_ROOT/build/pipeline}
PREP_BIN=$ALEXNET_BUILD/prep/alexnet-prep
TRAIN_BIN=$ALEXNET_BUILD/train/alexnet-train
EVAL_BIN=$ALEXNET_BUILD/eval/alexnet-eval

# slurm_die MESSAGE...: the error on stderr (the job's log), exit 1.
slurm_die() {
    echo "${ALEXNET_STAGE:-slurm}: error: $*" >&2
    exit 1
}

# slurm_need VAR...: each variable set and not empty.
slurm_need() {
    local v file=${ALEXNET_STAGE:-submit}.sbatch
    [ "$file" != submit.sbatch ] || file=submit.sh
    for v in "$@"; do
        [ -n "${!v:-}" ] || slurm_die "$v is not set (see the settings at the top of scripts/slurm/$file)"
    done
}

# slurm_need_bin PATH: an executable program.
slurm_need_bin() {
    [ -x "$1" ] || slurm_die "$1 not found: build it on a file system the nodes share" \
        "(make -f Makefile.pipeline build, or cmake), or set ALEXNET_BUILD to its build directory"
}

# slurm_need_dataset: DATA is a complete dataset directory.
slurm_need_dataset() {
    [ -d "$DATA" ] || slurm_die "dataset directory $DATA does not exist on $(hostname)" \
        "(is it on a file system every node mounts?)"
    [ -f "$DATA/dataset.json" ] || slurm_die "dataset $DATA is incomplete (no dataset.json, written last by" \
        "alexnet-prep): run the prep stage first (scripts/slurm/submit.sh)"
}

# The stamps Makefile.pipeline also uses: done when the stamp is newer than the parameters.
slurm_train_done() { [ -f "$RUN/.train.done" ] && [ "$RUN/.train.done" -nt "$RUN/.train-params" ]; }
slurm_eval_done() {
    [ -f "$RUN/eval/report.json" ] && [ -f "$RUN/.train.done" ] && [ "$RUN/eval/report.json" -nt "$RUN/.train.done" ] &&
        [ "$RUN/eval/report.json" -nt "$RUN/eval/.eval-params" ]
}
