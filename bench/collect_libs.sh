#!/usr/bin/env bash
# Stages what bench/device_check.sh needs on a GPU machine that has the NVIDIA driver and the
# CUDA runtime libraries but maybe none of our other dependencies:
#   bench/collect_libs.sh [BUILD_DIR [STAGE_DIR]]      (defaults: build, BUILD_DIR/device)
# STAGE_DIR/bin      gpbo_tests, gp_bench, ask_bench, gpbo (the CLI; stripped copies)
# STAGE_DIR/libs.tar.gz  every shared library they load except glibc's and the CUDA toolkit's
#                    (spdlog, fmt, sqlite, OpenBLAS/LAPACKE, gfortran, libstdc++, benchmark...),
#                    compressed so the folder fits the 64 MiB a device call may carry
# STAGE_DIR/COMMIT   the commit the binaries were built from
# Then carry STAGE_DIR and run: bench/device_check.sh STAGE_DIR
set -euo pipefail
build=${1:-build}
stage=${2:-$build/device}
bins=("$build/tests/gpbo_tests" "$build/bench/gp_bench" "$build/bench/ask_bench" "$build/gpbo")
for b in "${bins[@]}"; do
  [[ -x $b ]] || { echo "collect_libs: missing $b (build gpbo_tests gp_bench ask_bench gpbo_cli first)" >&2; exit 1; }
done
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/lib"
for b in "${bins[@]}"; do
  cp "$b" "$stage/bin/"
  strip --strip-unneeded "$stage/bin/$(basename "$b")" 2>/dev/null || true
done
# glibc (the loader's own family) must come from the target; CUDA libraries are too large to
# carry and belong to the target's toolkit/driver.
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libdl\.so|librt\.so|libpthread\.so|libresolv\.so|libutil\.so|libcuda\.so|libcudart|libcublas|libcublasLt|libcusolver|libcusparse|libcurand|libcufft|libnvJitLink|libnvrtc|libnvToolsExt)'
for b in "${bins[@]}"; do
  ldd "$b" | awk '/=>/ && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  if [[ $name =~ $skip ]]; then continue; fi
  cp -L "$path" "$stage/lib/$name"
done
tar -C "$stage" -czf "$stage/libs.tar.gz" lib
rm -rf "${stage:?}/lib"
git -C "$(dirname "$0")/.." rev-parse HEAD > "$stage/COMMIT" 2>/dev/null || echo unknown > "$stage/COMMIT"
ls -l "$stage" "$stage/bin"
# A device call carries at most 64 MiB, this folder and the working tree together.
mb() { echo "$(($1 / 1000000)).$(($1 % 1000000 / 100000)) MB"; }
bin_bytes=$(du -sb "$stage/bin" | cut -f1)
libs=$(du -sb "$stage/libs.tar.gz" | cut -f1)
total=$(du -sb "$stage" | cut -f1)
tree=$(git -C "$(dirname "$0")/.." ls-files -z | (cd "$(dirname "$0")/.." && xargs -0 du -cb) |
  tail -n 1 | cut -f1)
echo "$stage: $(mb "$total") ($(mb "$bin_bytes") of binaries, $(mb "$libs") of compressed libraries);" \
  "with the working tree ($(mb "${tree:-0}")) $(mb $((total + ${tree:-0}))) of the 64 MiB a device call carries"
if ((total + ${tree:-0} > 64 * 1024 * 1024)); then
  echo "collect_libs: too large to carry" >&2
  exit 1
fi
