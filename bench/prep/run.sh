#!/usr/bin/env bash
# bench/prep/run.sh: alexnet-prep against the Pillow + h5py peer, side by side
# on the same inputs and machine; prints images/s, images/s per core, ratios.
# Usage: [ROUNDS=3] [SHARD_SIZE=128] [PHOTOS=DIR] [STORE=raw|jpeg] bench/prep/run.sh BUILD_DIR [COUNT] [JOBS...]
#   COUNT  ImageNet-like JPEGs to generate (default 300), JOBS e.g. "1 2"   (not a test)
#   STORE=jpeg: both sides re-encode the 256x256 images at quality 90 and store
#   the bytes (alexnet-prep --store jpeg; the peer with Pillow), then the two
#   stores are compared by compare_stores.py (bytes per image, pixel error).
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR [COUNT] [JOBS...]}
count=${2:-300}
shift $(( $# >= 2 ? 2 : 1 ))
jobs_list=${*:-"1 $(nproc)"}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/alexnet-bench-prep.XXXXXX)
trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3
prep="$build/prep/alexnet-prep"
store=${STORE:-raw}
quality=90
ours_store=(); peer_quality=()
if [ "$store" = jpeg ]; then ours_store=(--store jpeg --jpeg-quality "$quality"); peer_quality=("$quality"); fi

if [ -n "${PHOTOS:-}" ]; then
  # Real photos instead: COUNT copies cycled from the JPEGs in $PHOTOS (e.g.
  # /usr/share/darknet/data, Debian's darknet package: 7 photos 500-1024 wide).
  mapfile -t photos < <(find "$PHOTOS" -maxdepth 1 -iname '*.jpg' -size +20k | sort)
  [ "${#photos[@]}" -gt 0 ] || { echo "run.sh: no JPEGs in $PHOTOS" >&2; exit 1; }
  echo "using $count copies of ${#photos[@]} photos from $PHOTOS..."
  for i in $(seq 0 $((count - 1))); do
    class=$(printf 'c%02d' $((i % 10)))
    mkdir -p "$work/jpeg/train/$class"
    cp "${photos[$((i % ${#photos[@]}))]}" "$work/jpeg/train/$class/photo-$i.JPEG"
  done
else
  echo "generating $count ImageNet-like JPEGs (500x375 mostly, quality 96)..."
  "$python" "$here/make_corpus.py" "$work/jpeg" "$count"
fi

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.1f", n / s }'; }
# CPU seconds (user + system, children included) of a command, into the file $cpu.
cpu="$work/cpu"
timed() { /usr/bin/time -f "%U %S" -o "$cpu" "$@"; }
cpu_ms() { awk -v n="$1" '{ printf "%.2f", ($1 + $2) * 1000 / n }' "$cpu"; }
# ROUNDS rounds per job count, the two sides alternating, so that a slow
# moment of a shared machine hits both; the medians are compared.
rounds=${ROUNDS:-3}
# Shards of SHARD_SIZE images (default 128), so that, as across ImageNet's
# 1,252 shards, writing one shard (HDF5, fsync) overlaps decoding the next;
# with the whole corpus in one shard nothing would overlap.
shard_size=${SHARD_SIZE:-128}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-28s %6s %6s %10s %14s %14s\n' "what" "jobs" "round" "images/s" "images/s/core" "cpu ms/image"
for jobs in $jobs_list; do
  : > "$work/ours.txt"; : > "$work/peer.txt"
  for round in $(seq "$rounds"); do
    # alexnet-prep: decode + resize + checksums + statistics + HDF5 shards (fsynced).
    rm -rf "$work/out"
    t0=$(date +%s.%N)
    timed "$prep" --source folder --input "$work/jpeg" --output "$work/out" --jobs "$jobs" \
      --shard-size "$shard_size" "${ours_store[@]}" --quiet
    t1=$(date +%s.%N)
    ours_cpu=$(cpu_ms "$count")
    ours_rate=$(rate "$count" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
    # The peer times itself from its first image to its last write (its
    # interpreter start and imports not counted); its CPU time counts them.
    timed "$python" "$here/peer_pillow.py" "$work/jpeg" "$work/peer.h5" "$jobs" "${peer_quality[@]}" > "$work/peer.out"
    read -r n peer < "$work/peer.out"
    peer_cpu=$(cpu_ms "$n")
    peer_rate=$(rate "$n" "$peer")
    rm -f "$work/peer.h5"
    echo "$ours_rate $ours_cpu" >> "$work/ours.txt"
    echo "$peer_rate $peer_cpu" >> "$work/peer.txt"
    printf '%-28s %6d %6d %10s %14s %14s\n' "alexnet-prep" "$jobs" "$round" "$ours_rate" "$(rate "$ours_rate" "$jobs")" "$ours_cpu"
    printf '%-28s %6d %6d %10s %14s %14s\n' "peer: Pillow + h5py" "$jobs" "$round" "$peer_rate" "$(rate "$peer_rate" "$jobs")" "$peer_cpu"
  done
  om=$(cut -d' ' -f1 "$work/ours.txt" | median); pm=$(cut -d' ' -f1 "$work/peer.txt" | median)
  oc=$(cut -d' ' -f2 "$work/ours.txt" | median); pc=$(cut -d' ' -f2 "$work/peer.txt" | median)
  printf '%-28s %6d %6s %10s %14s %14s\n' "alexnet-prep (median)" "$jobs" "-" "$om" "$(rate "$om" "$jobs")" "$oc"
  printf '%-28s %6d %6s %10s %14s %14s\n' "peer (median)" "$jobs" "-" "$pm" "$(rate "$pm" "$jobs")" "$pc"
  awk -v a="$om" -v b="$pm" -v c="$oc" -v d="$pc" -v j="$jobs" -v r="$rounds" \
    'BEGIN { printf "ratio alexnet-prep / peer at %d jobs (medians of %d rounds): %.2fx by wall clock, %.2fx by CPU time\n", j, r, a / b, d / c }'
done

# The JPEG store against the raw one on this corpus: size, and how far the
# decoded pixels are from the raw ones (4:2:0 and 4:4:4), read back with h5py + Pillow.
if [ "$store" = jpeg ]; then
  for s in "raw" "jpeg 420" "jpeg 444"; do
    set -- $s
    dir="$work/store-$1${2:-}"
    extra=(); [ "$1" = jpeg ] && extra=(--store jpeg --jpeg-quality "$quality" --jpeg-subsampling "$2")
    "$prep" --source folder --input "$work/jpeg" --output "$dir" --shard-size "$shard_size" "${extra[@]}" --quiet
  done
  "$python" "$here/compare_stores.py" "$work/store-raw" "$work/store-jpeg420" "$work/store-jpeg444"
fi

# IDX input (Fashion-MNIST), ours only: Pillow has no IDX reader.
if [ -d /usr/share/datasets/fashion-mnist ]; then
  for jobs in $jobs_list; do
    rm -rf "$work/idx"
    t0=$(date +%s.%N)
    timed "$prep" --source idx --input /usr/share/datasets/fashion-mnist --output "$work/idx" --train-limit 3000 \
            --val-limit 1 --jobs "$jobs" --quiet
    t1=$(date +%s.%N)
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
    printf '%-28s %6d %10s %14s %14s\n' "alexnet-prep IDX (3001)" "$jobs" "$(rate 3001 "$s")" \
      "$(rate "$(rate 3001 "$s")" "$jobs")" "$(cpu_ms 3001)"
  done
fi
