# h5_corpus.sh: the corpus of the byte-level mutation of HDF5 files
# (docs/RELIABILITY.md, "Hostile bytes inside HDF5"): small real files of every
# kind we read, made by the real programs.
# Usage: . h5_corpus.sh (after fault_lib.sh) then make_corpus DIR; it makes
#   DIR/raw, DIR/jpeg   datasets (raw and JPEG stores: 2 training shards and 1
#                       validation shard of 2 images, dataset.h5, prep-plan.h5)
#   DIR/checkpoint.h5   a checkpoint of a width-0.05 network, one step trained
# the same in format version 1 (DIR/raw-v1, DIR/jpeg-v1, DIR/checkpoint-v1.h5:
# tests/faults/h5_legacy.c), and sets H5_KINDS and H5_KINDS_V1: one line per kind, "NAME KIND CLEAN-FILE TARGET DATA-DIR",
# the mutants of CLEAN-FILE being written over TARGET inside the kind's own
# scratch copy DIR/work/NAME (restored at the end).
# legacy_copy SRC DST: the dataset directory SRC in format version 1 (h5_legacy).
legacy_copy() {
    mkdir -p "$2"
    for f in "$1"/*; do
        case "$f" in
            *.h5) "$LEGACY" "$f" "$2/$(basename "$f")" || fail "h5_legacy $f failed" ;;
            *.json) sed 's/"format_version": *[0-9]*/"format_version": 1/' "$f" >"$2/$(basename "$f")" ;;
            *) cp "$f" "$2/" ;;
        esac
    done
}

make_corpus() {
    dir=$1
    idx=/usr/share/datasets/fashion-mnist
    [ -d "$idx" ] || idx=$(dirname "$(find /usr/share -name 't10k-labels-idx1-ubyte*' 2>/dev/null | head -n 1)")
    [ -d "$idx" ] || { echo "SKIP: Fashion-MNIST (dataset-fashion-mnist) is not installed"; exit 77; }
    opts="--source idx --input $idx --train-limit 4 --val-limit 2 --shard-size 2 --jobs 1 --quiet"
    # shellcheck disable=SC2086
    "$PREP" $opts --output "$dir/raw" || fail "prep (raw store) failed"
    # shellcheck disable=SC2086
    "$PREP" $opts --store jpeg --output "$dir/jpeg" || fail "prep (JPEG store) failed"
    "$TRAIN" --data "$dir/raw" --run "$dir/run" --width 0.05 --batch 2 --epochs 1 --max-steps 1 --threads 1 \
        --checkpoint-steps 1 --seed 1 --quiet || fail "train failed"
    cp "$dir/run/checkpoints/$(cat "$dir/run/checkpoints/latest")" "$dir/checkpoint.h5"
    # one scratch copy per kind, so that kinds run side by side
    w=$dir/work
    for k in shard-raw dataset; do mkdir -p "$w/$k" && cp -r "$dir/raw" "$w/$k/"; done
    mkdir -p "$w/shard-jpeg" "$w/plan" "$w/checkpoint" "$w/state"
    cp -r "$dir/jpeg" "$w/shard-jpeg/"
    cp "$dir/raw/prep-plan.h5" "$w/plan/"
    cp "$dir/checkpoint.h5" "$w/checkpoint/"
    cp "$dir/checkpoint.h5" "$w/state/"
    H5_KINDS="shard-raw shard $dir/raw/val-00000-of-00001.h5 $w/shard-raw/raw/val-00000-of-00001.h5 $w/shard-raw/raw
shard-jpeg shard $dir/jpeg/train-00000-of-00002.h5 $w/shard-jpeg/jpeg/train-00000-of-00002.h5 $w/shard-jpeg/jpeg
dataset dataset $dir/raw/dataset.h5 $w/dataset/raw/dataset.h5 $w/dataset/raw
plan plan $dir/raw/prep-plan.h5 $w/plan/prep-plan.h5 $dir/raw
checkpoint checkpoint $dir/checkpoint.h5 $w/checkpoint/checkpoint.h5 $dir/raw
state state $dir/checkpoint.h5 $w/state/checkpoint.h5 $dir/raw"
    # the same kinds in format version 1 (variable-length strings: their reading is checked in a child)
    legacy_copy "$dir/raw" "$dir/raw-v1"
    legacy_copy "$dir/jpeg" "$dir/jpeg-v1"
    "$LEGACY" "$dir/checkpoint.h5" "$dir/checkpoint-v1.h5" || fail "h5_legacy checkpoint failed"
    for k in shard-raw-v1 dataset-v1; do mkdir -p "$w/$k" && cp -r "$dir/raw-v1" "$w/$k/"; done
    mkdir -p "$w/shard-jpeg-v1" "$w/plan-v1" "$w/checkpoint-v1" "$w/state-v1"
    cp -r "$dir/jpeg-v1" "$w/shard-jpeg-v1/"
    cp "$dir/raw-v1/prep-plan.h5" "$w/plan-v1/"
    cp "$dir/checkpoint-v1.h5" "$w/checkpoint-v1/"
    cp "$dir/checkpoint-v1.h5" "$w/state-v1/"
    H5_KINDS_V1="shard-raw-v1 shard $dir/raw-v1/val-00000-of-00001.h5 $w/shard-raw-v1/raw-v1/val-00000-of-00001.h5 $w/shard-raw-v1/raw-v1
shard-jpeg-v1 shard $dir/jpeg-v1/train-00000-of-00002.h5 $w/shard-jpeg-v1/jpeg-v1/train-00000-of-00002.h5 $w/shard-jpeg-v1/jpeg-v1
dataset-v1 dataset $dir/raw-v1/dataset.h5 $w/dataset-v1/raw-v1/dataset.h5 $w/dataset-v1/raw-v1
plan-v1 plan $dir/raw-v1/prep-plan.h5 $w/plan-v1/prep-plan.h5 $dir/raw-v1
checkpoint-v1 checkpoint $dir/checkpoint-v1.h5 $w/checkpoint-v1/checkpoint-v1.h5 $dir/raw
state-v1 state $dir/checkpoint-v1.h5 $w/state-v1/checkpoint-v1.h5 $dir/raw"
}
