#!/usr/bin/perl
# Runtime control by the script behind a real Apache 2.4 (event MPM +
# mod_cgid, which hands CGIs one socket as stdin and stdout): issue 4.
# SPEC R-CTL-1 (control headers take effect and never reach the client),
# R-POL-4 (finish early: the client has the whole response and the
# connection closed while the script still works; finish_on_close = false
# keeps the client waiting).
#
# The five requests run at the same time (curl in the background, each
# one's end noted when it is reaped); the programs are bash scripts that
# record their own times ($EPOCHREALTIME, the same clock as the test's).
# Apache started as root runs CGIs as www-data: everything it reads is
# world-readable, the directories it writes belong to www-data.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);
use Server qw(:all parse_env write_file);
use Harness qw(T check_fields);

my $CGIWRAP = cgiwrap_behind_apache();


my ($t, $conf, $log) = cgiwrap_tree('control-apache',
    dirs => [qw(cgi-bin prog rec var out apache)], root => 'prog',
    set => "max_execution_time = 10s\n", conf => sub {
	my ($t) = @_;
	return <<"EOF";
script "$t/prog/header_extends" {
    max_execution_time = 1s
}
script "$t/prog/header_shortens" {
    max_execution_time = 5s
}
script "$t/prog/finish_on_close_false" {
    finish_on_close = false
}
EOF
    }, rec => sub {
	my ($t) = @_;
	# The shutdown command's environment, named by the target.
	return <<"EOF";
#!/bin/sh
n=\$(basename "\$CGIWRAP_TARGET")
env > "$t/rec/.tmp.\$\$" && mv "$t/rec/.tmp.\$\$" "$t/rec/\$n"
EOF
    });

my $PROLOGUE = <<"EOF";
#!/bin/bash
export LC_ALL=C
V='$t/var'
now() { echo "\$EPOCHREALTIME"; }
EOF
# 200 KB of body (more than a pipe or socket buffer holds), then "end".
my $BODY = ('a' x 200000) . "\nend\n";
my $BODY_SH = <<'EOF';
printf 'Content-Type: text/plain\r\nX-Kept: yes\r\n\r\n'
head -c 200000 /dev/zero | tr '\0' a
printf '\nend\n'
EOF
my $WORK = <<'EOF';
now > "$V/$N.t_fin"
sleep 1.5
now > "$V/$N.t_done"
EOF

my %prog = (
	# CGIWrap-Time-Limit: 3 under a 1 s policy, 2 s of work: NORMAL.
	header_extends => <<'EOF',
printf 'Content-Type: text/plain\r\nCGIWrap-Time-Limit: 3\r\nCGIWrap-Ignore-User-Abort: off\r\nX-Kept: yes\r\n\r\nstarted\n'
sleep 2
echo worked
EOF
	# cgiwrap-time-limit: 1 (any case) under 5 s, 3 s of work: TIMEOUT.
	header_shortens => <<'EOF',
printf 'Content-Type: text/plain\r\ncgiwrap-time-limit: 1\r\nX-Kept: yes\r\n\r\nstarted\n'
sleep 3
echo worked
EOF
	close_stdout => $BODY_SH . "exec >&-\n" . $WORK,
	finish_line => $BODY_SH . "echo finish >&3\n" . $WORK,
	finish_on_close_false => $BODY_SH . "exec >&-\n" . $WORK,
);
for my $n (sort keys %prog) {
	write_file("$t/prog/$n", 0755, "${PROLOGUE}N=$n\n$prog{$n}");
	cgiwrap_shim($CGIWRAP, $conf, $t, $n);
}

my $srv = apache_started('event + mod_cgid: Apache started', mpm => 'event',
    cgi => 'mod_cgid', dir => "$t/apache", conf => cgi_bin_alias($t))
    or do {
	done_testing;
	exit;
};
note('Apache on port ' . $srv->port . ", files in $t");

# ---------------------------------------------------------------------------
# The requests, all at once.

my %req;
for my $n (sort keys %prog) {
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>', "$t/out/$n.code") or POSIX::_exit(125);
		open(STDERR, '>', "$t/out/$n.err") or POSIX::_exit(125);
		{ exec('curl', '-sS', '-D', "$t/out/$n.head", '-o',
		    "$t/out/$n.body", '-w', '%{http_code}', '--max-time', '10',
		    $srv->url("/cgi-bin/$n.cgi")); }
		POSIX::_exit(127);
	}
	$req{$n} = { pid => $pid, start => time };
}
# Reap the curls as they end (bounded), noting when.
wait_for(sub {
	for my $r (grep { !defined $_->{end} } values %req) {
		if (waitpid($r->{pid}, WNOHANG) == $r->{pid}) {
			$r->{end} = time;
			$r->{rc} = $? >> 8;
		}
	}
	return !grep { !defined $_->{end} } values %req;
}, T(15));
for my $r (grep { !defined $_->{end} } values %req) {
	kill 'KILL', $r->{pid};
	waitpid($r->{pid}, 0);
}
for my $n (sort keys %prog) {
	my $r = $req{$n};
	$r->{code} = slurp("$t/out/$n.code");
	$r->{head} = slurp("$t/out/$n.head");
	$r->{body} = slurp("$t/out/$n.body");
	$r->{err} = slurp("$t/out/$n.err");
}

sub num {
	my ($path) = @_;
	my $s = slurp($path);
	return $s =~ /^(\d+(?:\.\d+)?)\s*\z/ ? $1 : undef;
}

# The shutdown record of program N (waited for).
sub record {
	my ($n) = @_;
	wait_for_data("$t/rec/$n", T(10)) or return {};
	return parse_env(slurp("$t/rec/$n"));
}

# Compare long strings by length and first difference, not byte dumps.
sub same {
	my ($got, $want, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return pass($name) if $got eq $want;
	fail($name);
	my $i = 0;
	$i++ while $i < length($got) && $i < length($want)
	    && substr($got, $i, 1) eq substr($want, $i, 1);
	diag(sprintf 'got %d bytes, want %d; first difference at %d: %s',
	    length $got, length $want, $i, substr($got, $i, 40) =~ s/\n/\\n/gr);
}

sub curl_ok {
	my ($n) = @_;
	my $r = $req{$n};
	ok(defined $r->{rc} && $r->{rc} == 0, "$n: curl completed")
	    or diag("curl exit " . ($r->{rc} // 'none (killed)') . ": $r->{err}");
	is($r->{code}, 200, "$n: HTTP 200");
}

# No control header in what the client got; the other one is there.
sub headers_clean {
	my ($n) = @_;
	my $h = $req{$n}{head};
	unlike($h, qr/^cgiwrap-/im, "$n: no CGIWrap-* header reached the client")
	    or diag($h);
	like($h, qr/^X-Kept: yes\r?$/im, "$n: the other header did");
}

my $f0 = grep { !$_ } Test::More->builder->summary;

subtest 'CGIWrap-Time-Limit: 3 under a 1 s policy' => sub {
	my $n = 'header_extends';
	curl_ok($n);
	headers_clean($n);
	is($req{$n}{body}, "started\nworked\n", "$n: whole body");
	my $rec = record($n);
	check_fields($rec, {
	    STATUS => 0, STATUS_NAME => 'NORMAL', EXIT_CODE => 'exited',
	    EXIT_STATUS => 0 }, 'CGIWRAP_');
	cmp_ok($rec->{CGIWRAP_ELAPSED_MS} // 0, '>=', 1900,
	    "$n: ran its 2 s, past the 1 s policy");
};

subtest 'cgiwrap-time-limit: 1 under a 5 s policy' => sub {
	my $n = 'header_shortens';
	headers_clean($n);
	is($req{$n}{body}, "started\n", "$n: body cut at the timeout");
	my $rec = record($n);
	check_fields($rec, {
	    STATUS => 2, STATUS_NAME => 'TIMEOUT', EXIT_CODE => 'killed',
	    EXIT_STATUS => 'TERM' }, 'CGIWRAP_');
	my $ms = $rec->{CGIWRAP_ELAPSED_MS} // 0;
	ok($ms >= 900 && $ms < T(2.5) * 1000, "$n: stopped at about 1 s")
	    or diag("elapsed_ms $ms");
};

# The client had the whole response and the connection closed before the
# script completed (or, with finish_on_close = false, only after it).
sub finish_case {
	my ($n, $early) = @_;
	my $r = $req{$n};
	curl_ok($n);
	same($r->{body}, $BODY, "$n: the whole body, nothing else");
	my $rec = record($n);
	check_fields($rec, {
	    STATUS => 0, STATUS_NAME => 'NORMAL', EXIT_CODE => 'exited',
	    EXIT_STATUS => 0 }, 'CGIWRAP_');
	my ($fin, $done) = (num("$t/var/$n.t_fin"), num("$t/var/$n.t_done"));
	ok(defined $fin && defined $done, "$n: the script recorded its times")
	    or return;
	note(sprintf '%s: curl ended %.3f s after the script finished its '
	    . 'response, %.3f s before its end', $n, $r->{end} - $fin,
	    $done - $r->{end});
	if ($early) {
		cmp_ok($r->{end}, '<', $done - 0.5,
		    "$n: connection closed well before the script completed");
	} else {
		cmp_ok($r->{end}, '>=', $done,
		    "$n: the client waited until the script completed");
	}
}

subtest 'finish early: stdout closed' => sub { finish_case('close_stdout', 1) };
subtest 'finish early: "finish" on the control descriptor' =>
    sub { finish_case('finish_line', 1) };
subtest 'finish_on_close = false: stdout closed' =>
    sub { finish_case('finish_on_close_false', 0) };

ok(!grep({ /note=/ } split /\n/, slurp($log)), 'nothing noted in the log')
    or diag(slurp($log));

if (grep({ !$_ } Test::More->builder->summary) > $f0) {
	diag("---- Apache error log:\n" . $srv->error_log);
	diag("---- cgiwrap log:\n" . slurp($log));
}
ok($srv->stop, 'Apache stopped gracefully') or diag($srv->stop_problem);
my $mine = qr/\Q$t\E/;
ok(wait_for(sub { !pids_matching($mine) }, T(5)), 'no process of this test left')
    or diag(join "\n", map { "$_: " . (proc_cmdline($_) // '') }
    pids_matching($mine));
kill 'KILL', pids_matching($mine);
done_testing;
