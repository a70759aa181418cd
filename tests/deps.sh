#!/bin/sh
# Install the Debian packages that the build and the tests need, only
# those that are missing (nothing is fetched when all are there).
set -eu

pkgs="gcc make pkg-config libconfuse-dev libfcgi-dev perl curl
apache2 apache2-utils lighttpd nginx fcgiwrap spawn-fcgi mandoc
clang libclang-rt-dev valgrind"

missing=
for p in $pkgs; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) || st=
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Services must not start on install: the tests start their own.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.cgiwrap
chmod 755 /usr/sbin/policy-rc.d.cgiwrap
if [ ! -e /usr/sbin/policy-rc.d ]; then
	ln -s policy-rc.d.cgiwrap /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d /usr/sbin/policy-rc.d.cgiwrap' EXIT
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null
