#!/usr/bin/env bash
# COFFER_PLUGIN_PATH must be honoured in an ordinary process and ignored in a
# privileged (setuid) one, whose caller must not choose the code it loads.
#
#   setuid_plugin_path_test.sh PROBE
#
# Makes a setuid copy of PROBE owned by another user (needs root; exits 77,
# "skipped", otherwise or when the file system ignores setuid bits).
set -euo pipefail
probe=$1
injected=/coffer-test/injected-plugin-dir

out=$(COFFER_PLUGIN_PATH=$injected "$probe")
grep -qx "secure 0" <<<"$out" || { echo "the plain probe runs in secure mode?"; exit 1; }
grep -qx "dir $injected" <<<"$out" ||
  { echo "COFFER_PLUGIN_PATH ignored in an ordinary process:"; echo "$out"; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  echo "not root: cannot make a setuid copy owned by another user"
  exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/coffer-setuid-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cp "$probe" "$tmp/probe"
chown 4242:4242 "$tmp/probe"
chmod 4755 "$tmp/probe"
out=$(COFFER_PLUGIN_PATH=$injected "$tmp/probe")
if ! grep -qx "secure 1" <<<"$out"; then
  echo "the setuid copy does not run in secure mode (file system mounted nosuid?)"
  exit 77
fi
if grep -q "$injected" <<<"$out"; then
  echo "COFFER_PLUGIN_PATH was honoured in a setuid process:"
  echo "$out"
  exit 1
fi
grep -q "^dir /" <<<"$out" || { echo "no default plugin directory left:"; echo "$out"; exit 1; }
echo "COFFER_PLUGIN_PATH: honoured normally, ignored when setuid"
