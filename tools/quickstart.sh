#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# curvop quick start. On a fresh Debian 12 machine it installs what is missing from Debian's
# archive, configures, builds and then:
#   bash tools/quickstart.sh tour    builds the examples and runs the tour (examples/tour.cpp)
#   bash tools/quickstart.sh test    builds the test suite and runs it with ctest
#   bash tools/quickstart.sh deps    only installs the dependencies
# CURVOP_WITH_BACKENDS=1 also installs the optional backends' packages (OpenMP for clang,
# OpenBLAS, LAPACK, clang's sanitizer runtimes); CURVOP_WITH_PYTHON=1 installs Python's
# numpy/scipy/sklearn/matplotlib used by the comparison scripts and plots in bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-tour}
jobs=${CURVOP_JOBS:-$(nproc)}

# Debian packages the project needs; only the missing ones are installed.
# The test suite is compiled with clang (about 2x faster than g++ on Eigen-heavy tests; the
# examples and benchmarks use the default g++, so both compilers see the whole library).
need=(cmake g++ clang make libeigen3-dev catch2 libbenchmark-dev)
if [ "${CURVOP_WITH_BACKENDS:-0}" = 1 ]; then
  # libomp-dev: OpenMP for clang; libclang-rt-14-dev: clang's sanitizer runtimes.
  need+=(libomp-dev libclang-rt-14-dev libopenblas-dev liblapack-dev)
fi
if [ "${CURVOP_WITH_PYTHON:-0}" = 1 ]; then
  need+=(python3-numpy python3-scipy python3-sklearn python3-matplotlib)
fi
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "quickstart: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

case "$what" in
  deps) ;;
  tour)
    cmake --preset release >/dev/null
    cmake --build --preset release -j "$jobs" --target tour
    ./build/release/examples/tour
    ;;
  test)
    cmake --workflow --preset test
    ;;
  *)
    echo "usage: $0 {tour|test|deps}" >&2
    exit 2
    ;;
esac
