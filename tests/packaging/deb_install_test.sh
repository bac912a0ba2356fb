#!/usr/bin/env bash
# Builds the Debian packages (coffer, libcoffer0, libcoffer-dev) from a build
# tree configured for /usr, installs them with apt into a clean Debian 12 root
# made by debootstrap, and there runs coffer version, coffer plugins, a get
# through env_file and through the database provider (SQLite), builds the SDK's
# example provider and a host against the installed -dev package, then purges
# the packages and checks that nothing of them is left.
#
#   deb_install_test.sh SOURCE_DIR WORK_DIR PACKAGE_BUILD_DIR VERSION PLUGIN...
#
# WORK_DIR keeps the Debian root with its toolchain as a tarball between runs
# (bookworm-toolchain.tar; delete it to start from debootstrap again).
# PACKAGE_BUILD_DIR is the build tree of the packages, kept between runs.
# Needs root (chroot, mount), debootstrap and the network to deb.debian.org.
set -euo pipefail

if [ $# -lt 5 ]; then
  echo "usage: $0 SOURCE_DIR WORK_DIR PACKAGE_BUILD_DIR VERSION PLUGIN..." >&2
  exit 2
fi
source=$1 work=$2 pkgbuild=$3 version=$4
shift 4
plugins=("$@")
mirror=http://deb.debian.org/debian
multiarch=x86_64-linux-gnu

umask 022
ulimit -c 0
export LC_ALL=C
# ccache serves the package tree the objects of the build tree beside it.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$source} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
start=$(date +%s)
fail() {
  echo "FAILED: $*" >&2
  exit 1
}
step() { echo "== [$(($(date +%s) - start)) s] $*"; }
quiet() {
  local log=$work/step.log
  if ! "$@" >"$log" 2>&1; then
    tail -n 60 "$log" >&2
    fail "$*"
  fi
}

[ "$(id -u)" -eq 0 ] || fail "the packaging test needs root (chroot, mount, apt in the root); run it as root"
command -v debootstrap >/dev/null || fail "debootstrap is not installed (scripts/install-deps installs it)"
[ "$(dpkg --print-architecture)" = amd64 ] || fail "the test expects an amd64 host"
timeout 20 bash -c 'exec 3<>/dev/tcp/deb.debian.org/80' 2>/dev/null ||
  fail "cannot reach deb.debian.org:80: the test installs the packages' dependencies from $mirror and cannot run without it"

mkdir -p "$work"
root=$work/root
# Unmounts what the test mounted in the root, then removes the root.
cleanup() {
  if [ -d "$root/proc" ] && mountpoint -q "$root/proc"; then umount "$root/proc" || umount -l "$root/proc"; fi
  if [ -d "$root" ] && ! mountpoint -q "$root/proc" 2>/dev/null; then rm -rf "$root"; fi
}
trap cleanup EXIT
cleanup

# --- the packages -------------------------------------------------------------
step "configure $pkgbuild for /usr and build the packages"
quiet cmake -S "$source" -B "$pkgbuild" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr \
  -DCOFFER_BUILD_TESTS=OFF -DCOFFER_BUILD_BENCH=OFF -DCOFFER_WERROR=ON
quiet cmake --build "$pkgbuild" -j2
rm -rf "$pkgbuild/packages"
quiet cpack --config "$pkgbuild/CPackConfig.cmake" -B "$pkgbuild/packages"
debs=()
for name in coffer libcoffer0 libcoffer-dev; do
  deb=$pkgbuild/packages/${name}_${version}-1_amd64.deb
  [ -f "$deb" ] || fail "cpack did not make $(basename "$deb"): $(ls "$pkgbuild/packages")"
  debs+=("$deb")
done

step "the packages' control data"
depends_of() { dpkg-deb -f "$1" Depends; }
for deb in "${debs[@]}"; do
  echo "$(basename "$deb"): Depends: $(depends_of "$deb")"
done
# Each required dependency, by package name: the libraries dpkg-shlibdeps found
# and the component dependencies.
expect_depends() {
  local deb=$1 depends
  shift
  depends=", $(depends_of "$deb"),"
  for want in "$@"; do
    [[ "$depends" =~ ,\ *${want}[\ ,] ]] || fail "$(basename "$deb") does not depend on $want: $depends"
  done
}
expect_depends "${debs[1]}" libc6 libstdc\\+\\+6 libssl3 libboost-json1\\.81\\.0
expect_depends "${debs[0]}" "libcoffer0 \\(= $version-1\\)" libsqlite3-0 libpq5 libssl3
expect_depends "${debs[2]}" "libcoffer0 \\(= $version-1\\)" libboost1\\.81-dev
# Every file in the Debian layout, the plugins under the library directory.
for deb in "${debs[@]}"; do
  while read -r path; do
    case "$path" in
      ./usr/bin/* | ./usr/lib/$multiarch/* | ./usr/include/* | ./usr/share/* | ./usr/lib/systemd/system/* | \
        ./usr/lib/sysusers.d/* | ./usr/lib/tmpfiles.d/*) ;;
      ./ | ./usr/ | ./usr/lib/ | ./usr/lib/systemd/) ;;
      *) fail "$(basename "$deb") holds $path, outside the Debian layout" ;;
    esac
  done < <(dpkg-deb --fsys-tarfile "$deb" | tar -t)
done
contents=$(dpkg-deb -c "${debs[0]}")
grep -q "/usr/lib/$multiarch/coffer/plugins/libenv_file.so$" <<<"$contents" ||
  fail "the coffer package has no /usr/lib/$multiarch/coffer/plugins/libenv_file.so"

# --- a clean Debian 12 root ---------------------------------------------------
base=$work/bookworm-toolchain.tar
if [ ! -f "$base" ]; then
  step "debootstrap --variant=minbase bookworm (kept as $base)"
  rm -rf "$work/base"
  debootstrap --variant=minbase bookworm "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 30 "$work/debootstrap.log" >&2
    [ -d "$work/base/proc" ] && mountpoint -q "$work/base/proc" && umount "$work/base/proc"
    fail "debootstrap bookworm from $mirror failed (log: $work/debootstrap.log)"
  }
  cp /etc/resolv.conf "$work/base/etc/resolv.conf"
  mount -t proc proc "$work/base/proc"
  # What building against libcoffer-dev needs besides the package itself.
  chroot "$work/base" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends g++ make cmake pkg-config &&
           apt-get clean && rm -rf /var/lib/apt/lists/*' >"$work/toolchain.log" 2>&1 ||
    { umount "$work/base/proc"; tail -n 30 "$work/toolchain.log" >&2; fail "installing g++ and cmake in the root"; }
  umount "$work/base/proc"
  tar -C "$work/base" -cf "$base.partial" . && mv "$base.partial" "$base"
  rm -rf "$work/base"
fi
step "a fresh root from $base"
mkdir -m 755 "$root"
tar -C "$root" -xf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mkdir -m 700 "$root/root/debs"
cp "${debs[@]}" "$root/root/debs/"
mkdir -m 700 "$root/root/sdk"
cp -r "$source/tests/sdk/host" "$root/root/sdk/host"
# Runs a shell command in the root, as root, with a plain environment.
in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C \
    DEBIAN_FRONTEND=noninteractive bash -euo pipefail -c "$1"
}
# Every path under /usr, /etc, /var/lib and /opt of the root.
snapshot() {
  in_root 'find /usr /etc /var/lib /opt -xdev | sort' | grep -Ev '^/var/lib/(apt|dpkg)(/|$)' >"$1"
}
snapshot "$work/before.txt"

step "apt-get install ./coffer*.deb ./libcoffer*.deb in the root"
quiet in_root 'cd /root && apt-get update -qq && apt-get install -y -q ./debs/*.deb'
in_root 'dpkg -l coffer libcoffer0 libcoffer-dev | tail -n 3'
in_root 'dpkg -L coffer libcoffer0 libcoffer-dev | sort -u' >"$work/installed.txt"

step "coffer version"
out=$(in_root 'cd /root && coffer version') || fail "coffer version: $out"
echo "$out"
[ "$(head -n 1 <<<"$out")" = "coffer $version" ] || fail "coffer version does not print 'coffer $version': $out"
pcversion=$(in_root 'pkg-config --modversion coffer') || fail "pkg-config --modversion coffer"
[ "$pcversion" = "$version" ] || fail "coffer.pc says $pcversion, the package $version"

step "coffer plugins"
out=$(in_root 'cd /root && coffer plugins') || fail "coffer plugins: $out"
echo "$out"
for plugin in "${plugins[@]}"; do
  grep -Eq "^/usr/lib/$multiarch/coffer/plugins/lib$plugin\\.so +$plugin +.* ok\$" <<<"$out" ||
    fail "coffer plugins does not find $plugin in /usr/lib/$multiarch/coffer/plugins"
done

step "the systemd unit runs the installed coffer"
in_root 'grep -q "^ExecStart=/usr/bin/coffer " /usr/lib/systemd/system/coffer.service' ||
  fail "/usr/lib/systemd/system/coffer.service: ExecStart is not /usr/bin/coffer"
in_root 'test -f /usr/lib/systemd/system/coffer.socket' || fail "no coffer.socket"

step "a get through env_file and through the database provider (SQLite)"
in_root 'mkdir -m 700 /root/policy && cd /root/policy &&
  printf "T_VCS__GithubAdminPAT=from-the-env-file\n" >credentials.env && chmod 600 credentials.env &&
  cat >coffer.json <<EOF
{"coffer": 1,
 "providers": {"local": {"plugin": "env_file", "config": {"path": "credentials.env", "prefix": "T_"}},
               "db": {"plugin": "database",
                      "config": {"url": "sqlite:credentials.db", "master_key": {"file": "master.key"}}}},
 "routes": {"VCS": "local", "*": "db"}}
EOF'
out=$(in_root 'cd /root/policy && coffer get VCS.GithubAdminPAT') || fail "coffer get through env_file: $out"
[ "$out" = from-the-env-file ] || fail "coffer get through env_file printed: $out"
quiet in_root 'cd /root/policy && coffer db init'
quiet in_root 'cd /root/policy && printf from-the-database | coffer put Email.SMTPPassword'
out=$(in_root 'cd /root/policy && coffer get Email.SMTPPassword') || fail "coffer get through database: $out"
[ "$out" = from-the-database ] || fail "coffer get through the database provider printed: $out"
in_root 'test -f /root/policy/credentials.db' || fail "the SQLite store is not where the policy says"

step "build the SDK's example provider and a host against libcoffer-dev"
quiet in_root 'cp -r /usr/share/coffer/examples/hello_provider /root/sdk/hello_src &&
  cmake -S /root/sdk/hello_src -B /root/sdk/hello -DCMAKE_CXX_FLAGS=-Werror &&
  cmake --build /root/sdk/hello'
quiet in_root 'cmake -S /root/sdk/host -B /root/sdk/host-build -DCMAKE_CXX_FLAGS=-Werror &&
  cmake --build /root/sdk/host-build'
in_root '/root/sdk/host-build/sdk_host /usr/share/coffer/examples/hello_provider/policy.json /root/sdk/hello \
  Demo.Greeting "hello from a coffer plugin"' || fail "the host built against libcoffer-dev did not read Demo.Greeting through the example provider"
# shellcheck disable=SC2016 # pkg-config runs in the root
quiet in_root 'cc -std=c99 -Wall -Werror -o /root/sdk/c_host /root/sdk/host/c_host.c $(pkg-config --cflags --libs coffer)'
in_root 'COFFER_PLUGIN_PATH=/root/sdk/hello /root/sdk/c_host /usr/share/coffer/examples/hello_provider/policy.json \
  Demo.Greeting "hello from a coffer plugin"' || fail "the C host built with pkg-config did not read Demo.Greeting"

step "apt-get purge the packages; nothing of them is left"
quiet in_root 'apt-get purge -y -q coffer libcoffer-dev libcoffer0'
in_root 'rm -rf /root/policy /root/sdk /root/debs'
left=$(in_root 'dpkg -l | grep -E "^[a-z]+ +(coffer|libcoffer)" || true')
[ -z "$left" ] || fail "packages left after purge: $left"
while read -r path; do
  [ "$path" = "/." ] && continue
  in_root "test ! -e '$path' || test -d '$path'" || fail "$path is still there after purge"
done <"$work/installed.txt"
snapshot "$work/after.txt"
stray=$(comm -13 "$work/before.txt" "$work/after.txt" | grep -i coffer || true)
[ -z "$stray" ] || fail "left after purge: $stray"
# Whatever else is new belongs to a package still installed (the dependencies).
# dpkg lists some files under /lib, /bin, /sbin, which /usr holds (merged /usr).
in_root 'cat /var/lib/dpkg/info/*.list' |
  sed -E 's@^/(lib|lib64|bin|sbin)/@/usr/\1/@' | sort -u >"$work/owned.txt"
unowned=$(comm -13 "$work/before.txt" "$work/after.txt" | comm -23 - "$work/owned.txt")
[ -z "$unowned" ] || fail "files no package owns are left after purge: $unowned"

step "done: the packages install, work and purge cleanly in a Debian 12 root"
