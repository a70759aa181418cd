#!/usr/bin/perl
# cgiwrap behind a real Apache 2.4 on 127.0.0.1 (issue 2, last bullet):
# prefork + mod_cgi and event + mod_cgid, each serving cgi-bin shims
# (`#!/bin/sh` + `exec cgiwrap -c CONF -- PROGRAM`):
#  - a normal request: 200, the exact body, shutdown record with status 0,
#    a log line with status=NORMAL;
#  - a client that leaves (curl --max-time 1) while the program writes a
#    line every 100 ms: shutdown record with status 1 (ABORTED), and no
#    process of the program left.
# Apache started as root runs CGIs as www-data: everything it reads is
# world-readable, the state directories belong to www-data.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Time::HiRes qw(time);
use Server qw(:all write_file);

my $CGIWRAP = cgiwrap_behind_apache();

my $PROG_BODY = "hello from cgiwrap\n";


# A record written by rec.sh: the shutdown command's environment.
sub parse_env {
	my ($text) = @_;
	my %e;
	for (split /\n/, $text) {
		$e{$1} = $2 if /^([A-Za-z_][A-Za-z0-9_]*)=(.*)\z/;
	}
	return \%e;
}

sub records {
	my ($dir) = @_;
	opendir(my $dh, $dir) or return ();
	return sort grep { !/^\./ } readdir $dh;
}

# Wait (bounded) for the shutdown record of the request with query string
# ID: a record not in SEEN; with several new ones, the one whose
# QUERY_STRING is ID. Returns (record hash, file name) or ().
sub wait_record {
	my ($dir, $seen, $id, $timeout) = @_;
	my @found;
	wait_for(sub {
		my @new = grep { !$seen->{$_} } records($dir);
		return 0 unless @new;
		my @recs = map { [parse_env(slurp("$dir/$_")), $_] } @new;
		my ($m) = grep { ($_->[0]{QUERY_STRING} // '') eq $id } @recs;
		@found = @{ $m // $recs[0] };
		return 1;
	}, $timeout);
	$seen->{$found[1]} = 1 if @found;
	return @found;
}

# The first line of the cgiwrap log about TARGET with STATUS (waited for).
sub wait_log_line {
	my ($log, $target, $status, $timeout) = @_;
	my $line;
	wait_for(sub {
		($line) = grep { /(?:^|\s)target=\Q$target\E(?:\s|$)/
		    && /(?:^|\s)status=\Q$status\E(?:\s|$)/ }
		    split /\n/, slurp($log);
		return defined $line;
	}, $timeout);
	return $line;
}

# Processes of PROG (its path on their command line, not cgiwrap itself).
sub prog_pids {
	my ($prog) = @_;
	return grep { (proc_exe($_) // '') ne $CGIWRAP }
	    pids_matching(qr/(?:^|\s)\Q$prog\E(?:\s|$)/);
}

sub show_pids {
	return join("\n", map { "  $_: " . (proc_cmdline($_) // '(gone)') } @_);
}

sub failures { scalar grep { !$_ } Test::More->builder->summary }

sub dump_logs {
	my ($srv, $t, $what) = @_;
	diag("---- $what failed; Apache error log ($t/apache/error.log):\n"
	    . ($srv ? $srv->error_log : slurp("$t/apache/error.log")));
	diag("---- cgiwrap log ($t/var/cgiwrap.log):\n"
	    . slurp("$t/var/cgiwrap.log"));
	diag("---- Apache access log:\n" . slurp("$t/apache/access.log"));
	for my $r (records("$t/rec")) {
		my $e = parse_env(slurp("$t/rec/$r"));
		diag("---- shutdown record $t/rec/$r:\n" . join('', map {
		    "$_=$e->{$_}\n" } grep { /^(?:CGIWRAP_|QUERY_STRING\z)/ }
		    sort keys %$e));
	}
}

sub run_case {
	my ($mpm, $cgi) = @_;
	my ($t, $conf, $log) = cgiwrap_tree("apache-$mpm",
	    dirs => [qw(cgi-bin prog rec var apache)], root => 'prog');
	write_file("$t/prog/hello", 0755, <<"EOF");
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'hello from cgiwrap\\n'
EOF
	write_file("$t/prog/ticker", 0755, <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\n\n'
i=0
while [ $i -lt 300 ]; do
	echo "tick $i"
	sleep 0.1
	i=$((i + 1))
done
EOF
	cgiwrap_shim($CGIWRAP, $conf, $t, $_) for qw(hello ticker);

	my $srv = apache_started("$mpm + $cgi: Apache started", mpm => $mpm,
	    cgi => $cgi, dir => "$t/apache", conf => cgi_bin_alias($t))
	    or return;
	note("Apache $mpm + $cgi on port " . $srv->port . ", files in $t");
	my %seen;

	# A normal request.
	my $f0 = failures();
	my $id = "id=hello-$mpm";
	my $r = curl_get($srv->url("/cgi-bin/hello.cgi?$id"), max_time => T(10));
	is($r->{code}, 200, "$mpm: hello.cgi answers 200")
	    or diag("curl exit $r->{rc}: $r->{err}");
	is($r->{body}, $PROG_BODY, "$mpm: hello.cgi body is exact");
	my ($rec) = wait_record("$t/rec", \%seen, $id, T(10));
	ok($rec, "$mpm: hello: shutdown command ran (record in $t/rec)");
	$rec //= {};
	is($rec->{QUERY_STRING}, $id,
	    "$mpm: hello: record has the request's CGI variables");
	is($rec->{CGIWRAP_STATUS}, '0', "$mpm: hello: CGIWRAP_STATUS=0");
	is($rec->{CGIWRAP_STATUS_NAME}, 'NORMAL',
	    "$mpm: hello: CGIWRAP_STATUS_NAME=NORMAL");
	is($rec->{CGIWRAP_EXIT_CODE}, 'exited',
	    "$mpm: hello: CGIWRAP_EXIT_CODE=exited");
	is($rec->{CGIWRAP_EXIT_STATUS}, '0',
	    "$mpm: hello: CGIWRAP_EXIT_STATUS=0");
	is($rec->{CGIWRAP_TARGET}, "$t/prog/hello",
	    "$mpm: hello: CGIWRAP_TARGET is the program");
	my $line = wait_log_line($log, "$t/prog/hello", 'NORMAL', T(5));
	ok($line, "$mpm: hello: log line with status=NORMAL");
	like($line // '', qr/(?:^|\s)exit=exited:0(?:\s|$)/,
	    "$mpm: hello: log line has exit=exited:0");
	dump_logs($srv, $t, "$mpm hello") if failures() > $f0;

	# The client leaves while the program writes a line every 100 ms.
	$f0 = failures();
	$id = "id=ticker-$mpm";
	my $prog = "$t/prog/ticker";
	$r = curl_get($srv->url("/cgi-bin/ticker.cgi?$id"), max_time => 1);
	my $left = time;
	is($r->{rc}, 28, "$mpm: ticker: curl gave up after --max-time 1")
	    or diag("curl exit $r->{rc} code $r->{code}: $r->{err}");
	like($r->{body}, qr/\Atick 0\ntick 1\n/,
	    "$mpm: ticker: lines were streamed before the client left");
	($rec) = wait_record("$t/rec", \%seen, $id, T(10));
	my $reaction = time - $left;
	ok($rec, "$mpm: ticker: shutdown command ran (record in $t/rec)");
	note(sprintf("%s: ticker: record %.2f s after the client left",
	    $mpm, $reaction)) if $rec;
	$rec //= {};
	is($rec->{QUERY_STRING}, $id,
	    "$mpm: ticker: record has the request's CGI variables");
	is($rec->{CGIWRAP_STATUS}, '1', "$mpm: ticker: CGIWRAP_STATUS=1");
	is($rec->{CGIWRAP_STATUS_NAME}, 'ABORTED',
	    "$mpm: ticker: CGIWRAP_STATUS_NAME=ABORTED");
	is($rec->{CGIWRAP_EXIT_CODE}, 'killed',
	    "$mpm: ticker: CGIWRAP_EXIT_CODE=killed");
	like($rec->{CGIWRAP_EXIT_STATUS} // '', qr/\A(?:TERM|KILL)\z/,
	    "$mpm: ticker: CGIWRAP_EXIT_STATUS is TERM or KILL");
	# TERM, then KILL after kill_grace = 1s: a few seconds at most.
	ok(wait_for(sub { !prog_pids($prog) }, T(5)),
	    "$mpm: ticker: no process of the program is left")
	    or diag("left:\n" . show_pids(prog_pids($prog)));
	$line = wait_log_line($log, $prog, 'ABORTED', T(5));
	ok($line, "$mpm: ticker: log line with status=ABORTED");
	dump_logs($srv, $t, "$mpm ticker") if failures() > $f0;

	# Apache stops cleanly and nothing of this setup is left (cgiwrap
	# fronts and supervisors included).
	$f0 = failures();
	ok($srv->stop, "$mpm: Apache stopped gracefully")
	    or diag($srv->stop_problem);
	my $mine = qr/\Q$t\E/;
	ok(wait_for(sub { !pids_matching($mine) }, T(5)),
	    "$mpm: no process of this test left")
	    or diag("left:\n" . show_pids(pids_matching($mine)));
	dump_logs(undef, $t, "$mpm stop") if failures() > $f0;
	kill 'KILL', pids_matching($mine);	# whatever the outcome
}

my $t0 = time;
run_case('prefork', 'mod_cgi');
run_case('event', 'mod_cgid');
note(sprintf('apache.t took %.1f s', time - $t0));
done_testing;
