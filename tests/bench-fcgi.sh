#!/bin/sh
# Requests per second of a hello-world C CGI program through nginx ->
# cgiwrap -f and through nginx -> fcgiwrap (Debian's), side by side in one
# run: one nginx (etc/nginx.conf instantiated twice, one server block per
# FastCGI server, both on unix sockets), both servers with as many
# processes as CPUs, running as www-data; ab alternates between them, in
# a new order every round.
# Not part of make check (a measurement, nothing is asserted).
#
#   sudo tests/bench-fcgi.sh [ROUNDS [SECONDS [CONCURRENCY]]]   (3 8 2)
#
# Prints every ab result (req/s, and the machine's CPU time a request),
# then the median of each.  Needs root, nginx, fcgiwrap, ab
# (apache2-utils), cc; CGIWRAP= picks the binary (./cgiwrap),
# CGIWRAP_CONF_EXTRA= adds lines to its configuration (e.g. client_watch = 0).
# FLOOR= names a third server, run as fcgiwrap is (-s, -c) and measured
# beside them: make bench's tests/bench/fcgi-floor.c.  CGIWRAP_VS= names
# another build of cgiwrap, run as cgiwrap is, in the same rounds (row
# cgiwrap-vs): a change weighed side by side.
# PROG= serves that program (its copy) in place of the hello-world, at
# /cgi-bin/NAME/; FCGI_PARAM="NAME VALUE" is one more FastCGI parameter
# that nginx passes to both (make bench: CGIT_CONFIG for cgit).
set -eu

rounds=${1:-3}
secs=${2:-8}
conc=${3:-2}
top=$(cd "$(dirname "$0")/.." && pwd)
cgiwrap=${CGIWRAP:-$top/cgiwrap}
nginx=${NGINX:-/usr/sbin/nginx}
fcgiwrap=${FCGIWRAP:-/usr/sbin/fcgiwrap}
user=www-data

[ "$(id -u)" = 0 ] || { echo "bench-fcgi: run as root" >&2; exit 1; }
for x in "$cgiwrap" "$nginx" "$fcgiwrap" ${CGIWRAP_VS:+"$CGIWRAP_VS"}; do
	[ -x "$x" ] || { echo "bench-fcgi: $x is missing" >&2; exit 1; }
done
command -v ab >/dev/null || { echo "bench-fcgi: ab is missing" >&2; exit 1; }

t=$(mktemp -d /tmp/cgiwrap-bench-fcgi.XXXXXX)
chmod 755 "$t"
pids=
# Each server is a process group of its own (setsid): all of it goes.
cleanup() {
	for p in $pids; do kill -TERM "-$p" 2>/dev/null || :; done
	sleep 1
	for p in $pids; do kill -KILL "-$p" 2>/dev/null || :; done
	rm -rf "$t"
}
trap cleanup EXIT INT TERM

mkdir -p "$t/prog" "$t/run" "$t/nginx/tmp"
chown "$user:$user" "$t/run"
cat > "$t/hello.c" <<'EOF'
#include <unistd.h>
int
main(void)
{
	static const char r[] = "Content-Type: text/plain\r\n\r\nhello\n";

	return write(1, r, sizeof(r) - 1) == sizeof(r) - 1 ? 0 : 1;
}
EOF
if [ -n "${PROG:-}" ]; then
	name=$(basename "$PROG")
	cp "$PROG" "$t/prog/$name"
else
	name=hello
	cc -O2 -o "$t/prog/hello" "$t/hello.c"
fi

# cgiwrap as deployed: its log line per request (to a file here), no
# shutdown commands.
cat > "$t/cgiwrap.conf" <<EOF
roots = {"$t/prog"}
log = "$t/run/cgiwrap.log"
${CGIWRAP_CONF_EXTRA:-}
EOF
chmod 644 "$t/cgiwrap.conf"
sed "s|cgiwrap.log|cgiwrap-vs.log|" "$t/cgiwrap.conf" > "$t/cgiwrap-vs.conf"
chmod 644 "$t/cgiwrap-vs.conf"

port() { perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(
	LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport'; }
pa=$(port)
pb=$(port)
while [ "$pb" = "$pa" ]; do pb=$(port); done
pc=$(port)
while [ "$pc" = "$pa" ] || [ "$pc" = "$pb" ]; do pc=$(port); done
pd=$(port)
while [ "$pd" = "$pa" ] || [ "$pd" = "$pb" ] || [ "$pd" = "$pc" ]; do
	pd=$(port)
done
servers="cgiwrap fcgiwrap${FLOOR:+ floor}${CGIWRAP_VS:+ cgiwrap-vs}"
ncpu=$(getconf _NPROCESSORS_ONLN)

# Own process groups (setsid), as www-data.
setsid setpriv --reuid=$user --regid=$user --clear-groups -- \
    "$cgiwrap" -f -s "unix:$t/run/cgiwrap.sock" -c "$t/cgiwrap.conf" \
    -w "$ncpu" > "$t/run/cgiwrap.out" 2>&1 &
pids="$pids $!"
setsid setpriv --reuid=$user --regid=$user --clear-groups -- \
    "$fcgiwrap" -s "unix:$t/run/fcgiwrap.sock" -c "$ncpu" \
    > "$t/run/fcgiwrap.out" 2>&1 &
pids="$pids $!"
if [ -n "${FLOOR:-}" ]; then
	setsid setpriv --reuid=$user --regid=$user --clear-groups -- \
	    "$FLOOR" -s "unix:$t/run/floor.sock" -c "$ncpu" \
	    > "$t/run/floor.out" 2>&1 &
	pids="$pids $!"
fi
if [ -n "${CGIWRAP_VS:-}" ]; then
	setsid setpriv --reuid=$user --regid=$user --clear-groups -- \
	    "$CGIWRAP_VS" -f -s "unix:$t/run/cgiwrap-vs.sock" \
	    -c "$t/cgiwrap-vs.conf" -w "$ncpu" > "$t/run/cgiwrap-vs.out" 2>&1 &
	pids="$pids $!"
fi

snippet() {	# LISTEN SOCKET
	sed -e "s|@LISTEN@|$1|g" -e "s|@ROOT@|$t/prog|g" -e "s|@SOCKET@|$2|g" \
	    "$top/etc/nginx.conf"
}
cp /etc/nginx/fastcgi_params "$t/nginx/"
[ -z "${FCGI_PARAM:-}" ] ||
    echo "fastcgi_param $FCGI_PARAM;" >> "$t/nginx/fastcgi_params"
cat > "$t/nginx/nginx.conf" <<EOF
daemon off;
worker_processes $ncpu;
user root root;
pid $t/nginx/nginx.pid;
error_log $t/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $t/nginx/tmp/body;
    fastcgi_temp_path $t/nginx/tmp/fastcgi;
    proxy_temp_path $t/nginx/tmp/proxy;
    uwsgi_temp_path $t/nginx/tmp/uwsgi;
    scgi_temp_path $t/nginx/tmp/scgi;
$(snippet "127.0.0.1:$pa" "unix:$t/run/cgiwrap.sock")
$(snippet "127.0.0.1:$pb" "unix:$t/run/fcgiwrap.sock")
$([ -z "${FLOOR:-}" ] || snippet "127.0.0.1:$pc" "unix:$t/run/floor.sock")
$([ -z "${CGIWRAP_VS:-}" ] ||
    snippet "127.0.0.1:$pd" "unix:$t/run/cgiwrap-vs.sock")
}
EOF
setsid "$nginx" -p "$t/nginx/" -e "$t/nginx/error.log" \
    -c "$t/nginx/nginx.conf" &
pids="$pids $!"

url() {	# SERVER
	case $1 in
	cgiwrap) echo "http://127.0.0.1:$pa/cgi-bin/$name" ;;
	fcgiwrap) echo "http://127.0.0.1:$pb/cgi-bin/$name" ;;
	floor) echo "http://127.0.0.1:$pc/cgi-bin/$name" ;;
	cgiwrap-vs) echo "http://127.0.0.1:$pd/cgi-bin/$name" ;;
	esac
}
for s in $servers; do
	u=$(url $s)
	i=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$u" \
	    2>/dev/null)" = 200 ]; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "bench-fcgi: $u does not answer 200" >&2
			cat "$t/run/"*.out "$t/nginx/error.log" >&2
			exit 1
		fi
		sleep 0.1
	done
done

# The machine's busy CPU time in clock ticks (/proc/stat: user, nice,
# system, irq, softirq; not idle, iowait or steal): what a request costs
# is steadier than the rate on a VM whose host lends its CPUs to others.
busy() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
hz=$(getconf CLK_TCK)

echo "# $(uname -r), $ncpu CPUs; nginx $("$nginx" -v 2>&1 | sed 's/.*\///'),"\
    "cgiwrap $cgiwrap -w $ncpu, fcgiwrap -c $ncpu${FLOOR:+, floor -c $ncpu}\
${CGIWRAP_VS:+, cgiwrap-vs $CGIWRAP_VS -w $ncpu}"
echo "# ab -c $conc -t $secs URL, alternating, $rounds rounds"
for r in $(seq "$rounds"); do
	# In a new order every round: no server always follows the same one.
	for s in $(printf '%s\n' $servers | shuf); do
		u=$(url $s)
		b0=$(busy)
		out=$(ab -q -c "$conc" -t "$secs" -n 10000000 "$u" 2>&1)
		b1=$(busy)
		rps=$(echo "$out" | sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p')
		n=$(echo "$out" | sed -n 's/^Complete requests: *//p')
		# A page whose length changes (cgit's ages) is not a failure:
		# ab's Length count is left out.
		failed=$(echo "$out" | awk '/\(Connect:/ {
		    gsub(/[(),]/, ""); print $2 + $4 + $8 }')
		non2xx=$(echo "$out" | sed -n 's/^Non-2xx responses: *//p')
		cpu=$(awk -v b="$((b1 - b0))" -v n="${n:-0}" -v hz="$hz" \
		    'BEGIN { if (n > 0) printf "%.0f", b * 1e6 / hz / n }')
		echo "round $r $s ${rps:-?} req/s, ${cpu:-?} us CPU a request" \
		    "(failed ${failed:-0}, non-2xx ${non2xx:-0})"
		echo "$s $rps $cpu" >> "$t/results"
		# Errors answered fast are no figure: that server's median
		# is not given.
		[ "${failed:-0}" = 0 ] && [ "${non2xx:-0}" = 0 ] &&
		    [ -n "$rps" ] || echo "$s" >> "$t/failed"
	done
done
median() {	# SERVER FIELD
	awk -v s="$1" -v f="$2" '$1 == s { print $f }' "$t/results" | sort -n |
	    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for s in $servers; do
	if grep -qx "$s" "$t/failed" 2>/dev/null; then
		echo "median $s failed: requests failed or not 2xx"
		continue
	fi
	echo "median $s $(median $s 2) req/s, $(median $s 3) us CPU a request"
done
echo "# cgiwrap log lines: $(wc -l < "$t/run/cgiwrap.log")"
