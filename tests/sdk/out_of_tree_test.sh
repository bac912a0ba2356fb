#!/usr/bin/env bash
# Installs the built project into a temporary prefix and uses it as a third
# party would: builds the example providers and two host programs out of tree
# against the installed package (CMake and pkg-config), loads the providers
# through the installed libcoffer and checks the values they serve.
#
#   out_of_tree_test.sh BUILD_DIR SOURCE_DIR LIBDIR C_COMPILER CXX_COMPILER NM
#
# Needs the whole project built first (ctest runs after the build). Cleans up
# its temporary directory whatever happens.
set -euo pipefail

if [ $# -ne 6 ]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR LIBDIR C_COMPILER CXX_COMPILER NM" >&2
  exit 2
fi
build=$1 source=$2 libdir=$3 cc=$4 cxx=$5 nm=$6

tmp=$(mktemp -d "${TMPDIR:-/tmp}/coffer-sdk-out-of-tree-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

fail() {
  echo "FAILED: $*" >&2
  exit 1
}
step() { echo "== $*"; }
# Runs a command quietly, showing its output only when it fails.
quiet() {
  local log=$tmp/step.log
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$*"
  fi
}

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# Configures and builds a standalone project against the installed prefix.
build_project() {
  local src=$1 out=$2
  shift 2
  quiet cmake -S "$src" -B "$out" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_FLAGS=-Werror -DCMAKE_CXX_FLAGS=-Werror \
    "${launcher[@]}" "$@"
  quiet cmake --build "$out"
}

step "install into $prefix"
quiet cmake --install "$build" --prefix "$prefix"
for file in "$libdir/libcoffer.so" include/coffer/store.hpp include/coffer/coffer.h \
  include/coffer/provider.h include/coffer/provider.hpp include/coffer/file_ownership.hpp \
  include/coffer/provider_helpers.hpp include/coffer/config_fields.hpp \
  include/coffer/file_descriptor.hpp \
  "$libdir/cmake/coffer/cofferConfig.cmake" "$libdir/cmake/coffer/cofferConfigVersion.cmake" \
  "$libdir/cmake/coffer/cofferTargets.cmake" "$libdir/cmake/coffer/CofferProvider.cmake" \
  "$libdir/pkgconfig/coffer.pc" "$libdir/pkgconfig/coffer-provider.pc" \
  share/coffer/examples/hello_provider/hello_provider.cpp \
  share/coffer/examples/c_provider/secret_files.c; do
  [ -e "$prefix/$file" ] || fail "not installed: $file"
done
shipped=0
for plugin in "$build"/plugins/*.so; do
  [ -e "$plugin" ] || continue
  shipped=$((shipped + 1))
  [ -e "$prefix/$libdir/coffer/plugins/$(basename "$plugin")" ] ||
    fail "plugin not installed: $(basename "$plugin")"
done
[ "$shipped" -gt 0 ] || fail "no plugin in $build/plugins: build the project first"
if [ -x "$prefix/bin/coffer" ]; then
  step "the installed CLI finds the installed library"
  quiet "$prefix/bin/coffer" version
fi

step "build the C++ example provider out of tree (find_package + coffer_add_provider)"
build_project "$source/sdk/examples/hello_provider" "$tmp/hello"
[ -f "$tmp/hello/libhello.so" ] || fail "libhello.so was not built"

step "docs/sdk.md's CMake snippet builds the C++ example out of tree as written"
mkdir "$tmp/snippet"
# The first cmake block after the heading "## Building out of tree".
awk '/^## Building out of tree/ { section = 1 }
     section && /^```cmake$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' "$source/docs/sdk.md" >"$tmp/snippet/CMakeLists.txt"
grep -q coffer_add_provider "$tmp/snippet/CMakeLists.txt" ||
  fail "no CMake snippet under '## Building out of tree' in docs/sdk.md"
cp "$source/sdk/examples/hello_provider/hello_provider.cpp" "$tmp/snippet/"
build_project "$tmp/snippet" "$tmp/snippet/build"
[ -f "$tmp/snippet/build/libhello.so" ] || fail "the snippet did not build libhello.so"

step "build the C example provider out of tree"
build_project "$source/sdk/examples/c_provider" "$tmp/c_provider"
[ -f "$tmp/c_provider/libsecret_files.so" ] || fail "libsecret_files.so was not built"

step "the out-of-tree providers export exactly one symbol"
quiet cmake -DNM="$nm" -DPLUGIN_DIR="$tmp/hello" -DEXTRA_PLUGINS="$tmp/c_provider/libsecret_files.so" \
  -P "$source/tests/sdk/check_exports.cmake"

step "build a C++ host out of tree (find_package + coffer::coffer)"
build_project "$source/tests/sdk/host" "$tmp/host"

step "the host loads the example provider through the installed core"
# A policy whose plugin_dirs names the example's build directory.
cat >"$tmp/hello-policy.json" <<EOF
{"coffer": 1, "plugin_dirs": ["$tmp/hello"],
 "catalogs": ["$source/sdk/examples/hello_provider/demo-catalog.json"],
 "providers": {"demo": {"plugin": "hello",
                        "config": {"values": {"Demo.Greeting": "hello through plugin_dirs"}}}},
 "routes": {"Demo": "demo"}}
EOF
"$tmp/host/sdk_host" "$tmp/hello-policy.json" - Demo.Greeting "hello through plugin_dirs" \
  /values/Demo.Greeting || fail "the host could not read Demo.Greeting through libhello.so"
# The example's own policy and catalog, with the plugin directory from the host.
"$tmp/host/sdk_host" "$source/sdk/examples/hello_provider/policy.json" "$tmp/hello" \
  Demo.Greeting "hello from a coffer plugin" || fail "the example's policy.json does not work"

step "the host loads the C example provider"
mkdir -m 700 "$tmp/secrets"
printf 'token-from-a-mounted-file' >"$tmp/secrets/VCS.GithubAdminPAT"
# Relative paths (plugin_dirs, the provider's directory) resolve against the
# policy file's directory.
cat >"$tmp/files-policy.json" <<EOF
{"coffer": 1, "plugin_dirs": ["c_provider"],
 "providers": {"mounted": {"plugin": "secret_files", "config": {"directory": "secrets"}}},
 "routes": {"*": "mounted"}}
EOF
"$tmp/host/sdk_host" "$tmp/files-policy.json" - VCS.GithubAdminPAT \
  token-from-a-mounted-file "$tmp/secrets/VCS.GithubAdminPAT" ||
  fail "the host could not read VCS.GithubAdminPAT through libsecret_files.so"

step "pkg-config --cflags --libs coffer"
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
flags=$(pkg-config --cflags --libs coffer) || fail "pkg-config does not find coffer"
echo "$flags"
for expected in "-I$prefix/include" "-L$prefix/$libdir" "-lcoffer"; do
  [[ " $flags " == *" $expected "* ]] || fail "pkg-config coffer: '$expected' missing in: $flags"
done
provider_flags=$(pkg-config --cflags --libs coffer-provider) || fail "no coffer-provider.pc"
[[ " $provider_flags " == *" -I$prefix/include "* ]] || fail "coffer-provider: $provider_flags"
# Word by word: the random temporary prefix may itself hold "-l".
for flag in $provider_flags; do
  [[ $flag != -l* ]] || fail "coffer-provider must not link anything: $provider_flags"
done
[ "$(pkg-config --modversion coffer)" = "$(pkg-config --modversion coffer-provider)" ] ||
  fail "the two .pc files disagree on the version"
[ -n "$(pkg-config --variable=plugindir coffer)" ] || fail "coffer.pc has no plugindir"

step "a C host built with pkg-config reads the key through the C API"
# shellcheck disable=SC2046,SC2086
quiet "$cc" -std=c99 -Wall -Wextra -pedantic -Werror -o "$tmp/c_host" \
  "$source/tests/sdk/host/c_host.c" $flags -Wl,-rpath,"$(pkg-config --variable=libdir coffer)"
COFFER_PLUGIN_PATH=$tmp/hello "$tmp/c_host" "$source/sdk/examples/hello_provider/policy.json" \
  Demo.Greeting "hello from a coffer plugin" || fail "the C host could not read Demo.Greeting"

step "a provider built with pkg-config alone (no CMake) loads too"
mkdir "$tmp/pc_plugin"
printf '{\n  global: coffer_provider_entry;\n  local: *;\n};\n' >"$tmp/pc_plugin/exports.map"
# shellcheck disable=SC2046
quiet "$cc" -std=c99 -Wall -Wextra -pedantic -Werror -shared -fPIC -fvisibility=hidden \
  $(pkg-config --cflags coffer-provider) -o "$tmp/pc_plugin/libsecret_files.so" \
  "$source/sdk/examples/c_provider/secret_files.c" \
  -Wl,--version-script="$tmp/pc_plugin/exports.map" -Wl,--no-undefined
quiet cmake -DNM="$nm" -DPLUGIN_DIR="$tmp/pc_plugin" -P "$source/tests/sdk/check_exports.cmake"
"$tmp/host/sdk_host" "$tmp/files-policy.json" "$tmp/pc_plugin" VCS.GithubAdminPAT \
  token-from-a-mounted-file || fail "the pkg-config-built provider did not serve its key"

step "find_package(coffer) refuses another major version"
mkdir "$tmp/wrong_major"
cat >"$tmp/wrong_major/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(wrong_major LANGUAGES NONE)
find_package(coffer 99 REQUIRED)
EOF
if cmake -S "$tmp/wrong_major" -B "$tmp/wrong_major/build" -DCMAKE_PREFIX_PATH="$prefix" \
  >"$tmp/wrong_major.log" 2>&1; then
  fail "find_package(coffer 99) succeeded against $(pkg-config --modversion coffer)"
fi
grep -q "considered but not accepted" "$tmp/wrong_major.log" ||
  fail "find_package(coffer 99) failed for another reason: $(cat "$tmp/wrong_major.log")"

echo "out-of-tree build and use of the installed package: ok"
