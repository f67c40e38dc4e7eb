#!/usr/bin/env bash
# install-deps.sh: installs every Debian package that the build, the tests and
# the demo need. Idempotent: packages already present are left alone, and
# apt is not even asked when nothing is missing. Run as root (or with sudo).
#
# ALEXNET_CLUSTER_TESTS=1 (CI's test step, .ci/run) also installs Slurm and
# munge for tests/cluster/test_slurm.sh, which starts a cluster of its own and
# stops it. They are a test's dependency, not a user's: installing Debian's
# slurmctld, slurmd and munge would start and enable their services, so the
# install runs with a policy-rc.d that forbids starting any service, and the
# services are disabled afterwards; nothing runs and nothing starts at boot.
#
# The CUDA backend additionally needs the CUDA toolkit with cuDNN, cuBLAS and
# NCCL under /usr/local/cuda; those come from NVIDIA, not from Debian, and the
# build falls back to CPU-only without them.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libhdf5-dev hdf5-tools          # shards, dataset metadata, checkpoints
  libvips-dev                     # image decoding and resizing (alexnet-prep, figures)
  libjpeg62-turbo-dev             # alexnet-prep: JPEG decoded at M/8 scale, directly
  libopenblas-dev liblapacke-dev  # CPU GEMM; eigenvectors for PCA lighting
  libcmocka-dev                   # unit tests
  patchelf                        # scripts/device-check.sh: RUNPATH $ORIGIN on the libraries it bundles
  clang libclang-rt-dev libomp-dev  # tests/fuzz: libFuzzer with ASan + UBSan (OpenMP for clang)
  valgrind                        # tests/faults: memcheck of a small pipeline run
  libopenmpi-dev openmpi-bin      # several CPU processes / machines
  zlib1g-dev                      # CRC-32 checksums
  libjson-c-dev                   # every JSON file read or written (dataset.json, config.json, report.json, trainer state)
  dataset-fashion-mnist           # the demo dataset (IDX files)
  python3 python3-numpy python3-h5py  # format tests read shards with h5py
  python3-pil                     # bench/prep: the Pillow + h5py peer
  python3-venv                    # the virtual environments from PyPI below
)
if [ "${ALEXNET_PEERS:-0}" = 1 ]; then
  packages+=(python3-torch darknet)  # bench/cpu peers, tests/reference/gen_fixture.py, scripts/to_pytorch.py
  packages+=(python3-onnx)  # scripts/to_onnx.py and its test (onnxruntime, the newest torch: see the end)
fi
if [ "${ALEXNET_BROWSER_TESTS:-1}" = 1 ]; then
  packages+=(chromium fonts-dejavu-core)  # renders report.html in the browser test
fi

cluster_packages=()
if [ "${ALEXNET_CLUSTER_TESTS:-0}" = 1 ]; then
  cluster_packages=(slurmctld slurmd slurm-client munge)  # tests/cluster: a single-node Slurm (Debian 12: 22.05)
  packages+=("${cluster_packages[@]}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
else
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # No service may start during the install (policy-rc.d exit 101: "action forbidden").
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ${#cluster_packages[@]} -gt 0 ] && [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    made_policy=1
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" || status=$?
  if [ $made_policy = 1 ]; then $SUDO rm -f "$policy"; fi
  [ $status -eq 0 ] || exit $status
fi
# The cluster packages' services: disabled (systemd units and SysV links), never left to start at boot.
for service in "${cluster_packages[@]}"; do
  case "$service" in slurmctld | slurmd | munge) ;; *) continue ;; esac
  if command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --quiet "$service.service" >/dev/null 2>&1 || true  # works without a running systemd
  fi
  if [ -e "/etc/init.d/$service" ] && command -v update-rc.d >/dev/null 2>&1; then
    $SUDO update-rc.d "$service" disable >/dev/null 2>&1 || true
  fi
done

# onnxruntime is not packaged by Debian: with the peers, a virtual environment
# over Debian's Python (so it sees python3-torch and python3-h5py) gets it from
# PyPI; scripts/to_onnx.py's test (tests/eval/test_to_onnx.sh) looks there.
ONNX_VENV=${ALEXNET_ONNX_VENV:-/opt/alexnet-onnx}
if [ "${ALEXNET_PEERS:-0}" = 1 ] && ! "$ONNX_VENV/bin/python" -c 'import onnxruntime' 2>/dev/null; then
  echo "install-deps: onnxruntime into $ONNX_VENV"
  $SUDO /usr/bin/python3 -m venv --system-site-packages "$ONNX_VENV"
  $SUDO "$ONNX_VENV/bin/pip" install -q onnxruntime
fi
# The same check against the newest PyTorch: a second environment, all from
# PyPI (torch with its CUDA libraries: about 4 min and 5.5 GiB, measured on the
# development machine with torch 2.15.0).
TORCH_VENV=${ALEXNET_TORCH_VENV:-/opt/alexnet-torch}
if [ "${ALEXNET_PEERS:-0}" = 1 ] && ! "$TORCH_VENV/bin/python" -c 'import torch, onnx, onnxruntime, h5py' 2>/dev/null; then
  echo "install-deps: the newest torch, onnx, onnxruntime and h5py into $TORCH_VENV"
  $SUDO /usr/bin/python3 -m venv "$TORCH_VENV"
  $SUDO "$TORCH_VENV/bin/pip" install -q torch h5py onnx onnxruntime
fi

# TensorBoard's own event reader, for the test of the event files that
# alexnet-train writes (tests/train/test_train_events.sh): the `tensorboard`
# package from PyPI (Debian does not package it) in a virtual environment over
# Debian's Python. Installed by default: 6 to 9 s and 84 MiB (measured on the
# development machine, Debian 12, tensorboard 2.21.0). ALEXNET_TENSORBOARD=0
# leaves it out, and the test is then skipped.
TB_VENV=${ALEXNET_TB_VENV:-/opt/alexnet-tensorboard}
if [ "${ALEXNET_TENSORBOARD:-1}" = 1 ] && ! "$TB_VENV/bin/python" -c 'import tensorboard' 2>/dev/null; then
  echo "install-deps: tensorboard into $TB_VENV"
  $SUDO /usr/bin/python3 -m venv --system-site-packages "$TB_VENV"
  $SUDO "$TB_VENV/bin/pip" install -q tensorboard
fi
