#!/usr/bin/env bash
# Installs the built project into two temporary prefixes, moves one of them
# elsewhere, and checks that the `coffer` of each installation finds its own
# plugins (and only those) without any policy or COFFER_PLUGIN_PATH: the
# default plugin directory follows the installed libcoffer.
#
#   relocated_install_test.sh BUILD_DIR LIBDIR PLUGIN...
#
# PLUGIN... are the names of the plugins the build installs. Cleans up its
# temporary directory whatever happens.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 BUILD_DIR LIBDIR PLUGIN..." >&2
  exit 2
fi
build=$1 libdir=$2
shift 2
plugins=("$@")

umask 022  # the installed directories must not be group-writable (the loader refuses them)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/coffer-relocated-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

for name in first second; do
  cmake --install "$build" --prefix "$tmp/$name" >"$tmp/install-$name.log" 2>&1 ||
    { cat "$tmp/install-$name.log" >&2; fail "cmake --install --prefix $tmp/$name"; }
done
mv "$tmp/second" "$tmp/moved"
mkdir "$tmp/empty"

# Runs `coffer plugins` of the installation at $1 from an empty directory
# (no ./coffer.json) and checks that it lists every plugin from $1 alone.
check() {
  local prefix=$1 out err
  out=$(cd "$tmp/empty" && env -u COFFER_PLUGIN_PATH -u COFFER_POLICY "$prefix/bin/coffer" plugins \
    2>"$tmp/err") || { cat "$tmp/err" >&2; fail "$prefix/bin/coffer plugins"; }
  err=$(cat "$tmp/err")
  echo "$out"
  for plugin in "${plugins[@]}"; do
    grep -Eq "^$prefix/$libdir/coffer/plugins/lib$plugin\\.so +$plugin +.* ok\$" <<<"$out" ||
      fail "$prefix/bin/coffer plugins does not list its own $plugin plugin as loadable:
$out
$err"
  done
  local listed
  listed=$(tail -n +2 <<<"$out" | wc -l)
  [ "$listed" -eq "${#plugins[@]}" ] ||
    fail "$prefix/bin/coffer plugins lists $listed files, expected ${#plugins[@]}:
$out"
}

check "$tmp/first"
check "$tmp/moved"

# The credential helpers are installed beside coffer and find their libcoffer
# wherever the prefix is.
for prefix in "$tmp/first" "$tmp/moved"; do
  "$prefix/bin/git-credential-coffer" --version | grep -q '^git-credential-coffer (coffer ' ||
    fail "$prefix/bin/git-credential-coffer --version"
  "$prefix/bin/docker-credential-coffer" version | grep -q '^docker-credential-coffer (coffer) ' ||
    fail "$prefix/bin/docker-credential-coffer version"
done
echo "each installation, moved or not, finds its own plugins: ok"
