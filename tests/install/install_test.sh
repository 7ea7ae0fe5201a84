#!/usr/bin/env bash
# The installed package: `cmake --install` into a fresh prefix, then
#   1. examples/ configured and built as a project of its own with find_package(gpbo CONFIG):
#      the C++ example on gpbo::gpbo, the C example on gpbo::gpbo_c; both run;
#   2. examples/c_example.c built with `cc ... $(pkg-config --cflags --libs gpbo)` alone, and run;
#   3. libgpbo.so exports only gpbo_* symbols and carries the soname libgpbo.so.0.
#
#   install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
echo "installed into a fresh prefix: $(find "$prefix" -type f | wc -l) files"
for f in include/gpbo/gpbo.h include/gpbo/gpbo.hpp bin/gpbo lib/libgpbo.a lib/libgpbo.so.0 \
  lib/cmake/gpbo/gpboConfig.cmake lib/pkgconfig/gpbo.pc; do
  [[ -e $prefix/$f ]] || { echo "FAIL: $f was not installed"; exit 1; }
done

# 1. find_package(gpbo CONFIG)
cmake -S "$source/examples" -B "$work/examples" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/configure.log" 2>&1 ||
  { cat "$work/configure.log"; echo "FAIL: examples/ does not configure against the package"; exit 1; }
cmake --build "$work/examples" -j "$(nproc)" > "$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; echo "FAIL: examples/ does not build against the package"; exit 1; }
"$work/examples/ask_tell"
"$work/examples/c_example" "$work/cmake.db" > "$work/c_cmake.log"
tail -1 "$work/c_cmake.log"
echo "ok: find_package(gpbo CONFIG) builds and runs examples/ (gpbo::gpbo and gpbo::gpbo_c)"

# 2. pkg-config alone
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs gpbo)
echo "pkg-config --cflags --libs gpbo: $flags"
# shellcheck disable=SC2086
cc -o "$work/c_pkgconfig" "$source/examples/c_example.c" $flags
LD_LIBRARY_PATH=$prefix/lib "$work/c_pkgconfig" "$work/pkgconfig.db" > "$work/c_pc.log"
tail -1 "$work/c_pc.log"
echo "ok: cc with pkg-config alone builds and runs examples/c_example.c"

# 3. the shared library's interface
so=$prefix/lib/libgpbo.so.0
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[[ $soname == libgpbo.so.0 ]] || { echo "FAIL: soname is '$soname'"; exit 1; }
exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sed 's/@.*//' | sort -u)
others=$(grep -v '^gpbo_' <<< "$exported" | grep -v '^GPBO_0$' || true)
if [[ -n $others ]]; then
  echo "FAIL: libgpbo.so exports symbols beyond gpbo_*:"
  head -20 <<< "$others"
  exit 1
fi
declared=$(grep -o '\bgpbo_[a-z_]*(' "$source/include/gpbo/gpbo.h" | tr -d '(' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
[[ -z $missing ]] || { echo "FAIL: gpbo.h declares, libgpbo.so lacks: $missing"; exit 1; }
echo "ok: libgpbo.so ($soname) exports exactly the $(wc -l <<< "$exported") gpbo_* functions of gpbo.h"
