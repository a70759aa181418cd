#!/bin/sh
# Install the Debian packages that the build and the tests need, only
# those that are missing (nothing is fetched when all are there).
# "deps.sh deb": only what building the Debian package needs, that is
# dpkg-dev and the Build-Depends of debian/control (make deb).
# "deps.sh bench": those of the tests and cgit, the real program that
# make bench measures.
set -eu
cd "$(dirname "$0")/.."

pkgs="gcc make pkg-config libconfuse-dev libfcgi-dev perl curl
apache2 apache2-utils lighttpd nginx fcgiwrap spawn-fcgi mandoc
clang libclang-rt-dev valgrind strace dpkg-dev debhelper lintian"

missing=
builddeps=
[ "${1:-}" != bench ] || pkgs="$pkgs cgit"
if [ "${1:-}" = deb ]; then
	pkgs=dpkg-dev
	command -v dpkg-checkbuilddeps >/dev/null &&
	    dpkg-checkbuilddeps >/dev/null 2>&1 || builddeps=yes
fi
for p in $pkgs; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || st=
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing$builddeps" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing${builddeps:+ and the" \
	    "Build-Depends of debian/control} (run as root to install)" >&2
	exit 1
fi
echo "deps: installing$missing${builddeps:+ and the Build-Depends}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Services must not start on install: the tests start their own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.cgiwrap
chmod 755 /usr/sbin/policy-rc.d.cgiwrap
if [ ! -e /usr/sbin/policy-rc.d ]; then
	ln -s policy-rc.d.cgiwrap /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d /usr/sbin/policy-rc.d.cgiwrap' EXIT
fi
[ -z "$missing" ] ||
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ -z "$builddeps" ] ||
    apt-get build-dep -y -qq --no-install-recommends ./ >/dev/null
