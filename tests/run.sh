#!/bin/sh
# Run the whole suite (unit and integration) once per build directory given,
# each with prove; the binary under test is BUILDDIR/cgiwrap, or ./cgiwrap
# for the default build.  Sanitizer reports go to files that fail the run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
rc=0
# A clone made under umask 002 would leave the fixtures group-writable,
# and a config writable by others is (rightly) refused.
chmod go-w tests/unit/conf/* 2>/dev/null
for dir in "$@"; do
	bin=$top/$dir/cgiwrap
	[ "$dir" = build ] && bin=$top/cgiwrap
	san=$(mktemp -d /tmp/cgiwrap-san.XXXXXX)
	chmod 1777 "$san"
	echo "== suite with $bin"
	# The fuzzers do not depend on the binary: fuzz once, then only
	# replay the seeds and regression inputs.
	fuzz=0
	[ "$dir" = "$1" ] && fuzz=${CGIWRAP_FUZZ_SECONDS:-8}
	# Every asserted time window is scaled by one slowness factor
	# (Harness's T): CGIWRAP_TEST_SLOW for a loaded machine, doubled
	# for the sanitizer build.  valgrind cannot run sanitizer builds,
	# and the Debian package is built from the sources, not the binary
	# under test: once is enough.
	slow=${CGIWRAP_TEST_SLOW:-1}
	tests=$(ls tests/unit/*.t tests/integ/*.t)
	case $dir in
	*asan*)	tests=$(echo "$tests" | grep -v '/valgrind\.t$\|/deb\.t$')
		slow=$((slow * 2)) ;;
	esac
	# --directives shows every skip: a skipped test is not a passed one.
	out=$(mktemp /tmp/cgiwrap-prove.XXXXXX)
	{ CGIWRAP=$bin CGIWRAP_UNITS=$top/$dir/tests/unit \
	CGIWRAP_FUZZ_SECONDS=$fuzz CGIWRAP_TEST_SLOW=$slow \
	ASAN_OPTIONS="log_path=$san/asan:detect_leaks=1" \
	UBSAN_OPTIONS="log_path=$san/ubsan:print_stacktrace=1" \
	    prove -j2 --directives $tests || echo "prove failed" >"$out.rc"
	} 2>&1 | tee "$out"
	[ -e "$out.rc" ] && rc=1
	if grep -Ei '# skip|\.\. skipped' "$out" >/dev/null; then
		echo "skipped tests under $dir (each must run):"
		grep -Ei '# skip|\.\. skipped' "$out"
		rc=1
	fi
	rm -f "$out" "$out.rc"
	if ls "$san"/* >/dev/null 2>&1; then
		echo "sanitizer reports under $dir:"; cat "$san"/*; rc=1
	fi
	rm -rf "$san"
done
exit $rc
