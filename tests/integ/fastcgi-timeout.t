#!/usr/bin/perl
# Peers that hold a worker (issue "Hardening", item 2), on a unix and on
# a TCP socket, cgiwrap -f -w 2 with a short fastcgi_timeout:
#  - an idle pool keeps its workers: their pids are the same after longer
#    than the timeout (timed by a silent connection of the same pool being
#    closed, which one worker held while the other idled);
#  - three silent connections (FCGI_BEGIN_REQUEST only) against the two
#    workers: a real request is served once the timeout has passed, and
#    cgiwrap closes the three;
#  - a peer that trickles its params, or its body, a byte at a time, each
#    well within the timeout, is dropped at the timeout counted from its
#    connection, and nothing runs;
#  - two such peers that write on after the close hold no worker: a real
#    request is served within the timeout.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Select;
use POSIX ();
use Time::HiRes qw(time);
use Harness qw(T);
use Nginx qw(:all);

my $CGIWRAP = cgiwrap_behind_nginx();
my $TO = T(2);			# fastcgi_timeout, seconds
my $SLACK = T(3);		# what cgiwrap may take beyond it

sub params {
	my ($fx, $id) = @_;
	return fcgi_pairs(fcgi_cgi_params($fx, 'sum', $id,
	    REQUEST_METHOD => 'POST', CONTENT_LENGTH => 64));
}

# A connection that sent BYTES and nothing more.
sub silent {
	my ($addr, $bytes) = @_;
	my $s = fcgi_connect($addr, T(5)) or return undef;
	fcgi_write($s, $bytes);
	return $s;
}

# Seconds until S is closed by cgiwrap (EOF), from T0; undef if not
# within LIMIT seconds of T0.
sub closed_after {
	my ($s, $t0, $limit) = @_;
	my $r = fcgi_read($s, $t0 + $limit - time);
	return $r->{eof} && !$r->{end} ? time - $t0 : undef;
}

# Send BYTES one at a time, GAP seconds apart, until cgiwrap closes the
# connection; returns (seconds from the connection to the close or undef,
# bytes sent).
sub trickle {
	my ($addr, $head, $bytes, $gap) = @_;
	my $t0 = time;
	my $s = fcgi_connect($addr, T(5)) or return (undef, 0);
	fcgi_write($s, $head);
	my $sel = IO::Select->new($s);
	for my $i (0 .. length($bytes) - 1) {
		if ($sel->can_read($gap)) {
			my $n = sysread($s, my $buf, 4096);
			return (time - $t0, $i) if defined $n && $n == 0;
		}
		fcgi_write($s, substr($bytes, $i, 1)) or return (time - $t0, $i);
	}
	return (undef, length $bytes);
}

# A peer that trickles BYTES (again and again) after HEAD, and goes on
# after cgiwrap closed its connection, GAP seconds between bytes, until
# UNTIL (time): connected here, so that it is in the listening queue
# before what comes next, then a process of its own.
sub stubborn {
	my ($addr, $head, $bytes, $gap, $until) = @_;
	my $s = fcgi_connect($addr, T(5)) or return ();
	fcgi_write($s, $head);
	my $pid = fork // die "fork: $!";
	if ($pid) {
		close $s;
		return $pid;
	}
	$SIG{TERM} = 'DEFAULT';
	$SIG{PIPE} = 'IGNORE';
	for (my $i = 0; time < $until; $i = ($i + 1) % length $bytes) {
		select(undef, undef, undef, $gap);
		syswrite($s, substr($bytes, $i, 1));
	}
	POSIX::_exit(0);
}

sub run_kind {
	my ($kind) = @_;
	my $fx = fcgi_fixture(tag => "fastcgi-timeout-$kind",
	    conf => sprintf('fastcgi_timeout = %dms', $TO * 1000));
	my ($cw, $addr, @pool) = pool_started($kind, bin => $CGIWRAP,
	    conf => $fx->{conf}, dir => $fx->{var},
	    tag => $kind);
	return unless $cw;

	# One worker holds a silent connection, the other idles.
	my $t0 = time;
	my $s = silent($addr, fcgi_begin(1));
	my $after = $s ? closed_after($s, $t0, $TO + $SLACK) : undef;
	ok(defined $after, "$kind: a silent connection is closed within "
	    . "fastcgi_timeout ($TO s)") or diag($cw->out);
	cmp_ok($after // 0, '>=', $TO - 0.2, "$kind: not before it");
	is(join(' ', $cw->workers), "@pool", "$kind: the workers are the ones "
	    . "of the start, idle longer than fastcgi_timeout");

	# Three silent connections, two workers, then a real request.
	$t0 = time;
	my @s = map { silent($addr, fcgi_begin(1)) } 1 .. 3;
	my $r = fcgi_request($addr, params => [fcgi_unpairs(params($fx,
	    "real-$kind"))], stdin => 'x' x 64, timeout => $TO + $SLACK);
	my $took = time - $t0;
	ok($r->{end} && $r->{stdout} =~ /\nCONTENT_LENGTH=64\n\z/,
	    "$kind: 3 silent connections, 2 workers: a request is served "
	    . "within fastcgi_timeout")
	    or diag(fcgi_describe($r) . "\n" . $cw->out);
	note(sprintf("$kind: served after %.2f s", $took));
	my @closed = map { $_ ? closed_after($_, $t0, 2 * $TO + $SLACK) : undef }
	    @s;
	is(scalar(grep { defined } @closed), 3, "$kind: cgiwrap closed the 3 "
	    . 'silent connections') or diag("closed after: @closed");

	# Trickles: each byte well within the timeout, the whole not.
	my $gap = $TO / 4;
	my $p = fcgi_params(1, params($fx, "trickle-params-$kind"));
	my ($at, $sent) = trickle($addr, fcgi_begin(1), $p, $gap);
	ok(defined $at && $at < $TO + $SLACK && $sent < length $p,
	    "$kind: params a byte every $gap s: dropped within "
	    . "fastcgi_timeout") or diag("at " . ($at // 'never')
	    . ", $sent bytes of " . length($p));
	cmp_ok($at // 0, '>=', $TO - 0.2, "$kind: params trickle: not before");
	my $head = fcgi_begin(1) . fcgi_params(1, params($fx,
	    "trickle-body-$kind"));
	($at, $sent) = trickle($addr, $head, fcgi_stdin(1, 'y' x 64), $gap);
	ok(defined $at && $at < $TO + $SLACK, "$kind: body a byte every "
	    . "$gap s: dropped within fastcgi_timeout")
	    or diag("at " . ($at // 'never') . ", $sent bytes");
	cmp_ok($at // 0, '>=', $TO - 0.2, "$kind: body trickle: not before");
	ok(!wait_record($fx, "trickle-params-$kind", 0)
	    && !wait_record($fx, "trickle-body-$kind", T(1)),
	    "$kind: the trickled requests ran nothing");
	like($cw->out, qr/not read within fastcgi_timeout/,
	    "$kind: cgiwrap says why it closed them");

	# Peers that write on after the close: libfcgi's close waits for
	# the peer's own, reading what comes, 2 s after each byte; the
	# deadline's shutdown of the read side must end that wait too.
	$t0 = time;
	my $until = $t0 + 2 * $TO + 2 * $SLACK;
	my @peers = map { stubborn($addr, fcgi_begin(1), $p, $gap, $until) }
	    1 .. 2;
	is(scalar @peers, 2, "$kind: 2 peers connected");
	$r = fcgi_request($addr, params => [fcgi_unpairs(params($fx,
	    "after-stubborn-$kind"))], stdin => 'x' x 64,
	    timeout => $TO + $SLACK);
	ok($r->{end} && $r->{stdout} =~ /\nCONTENT_LENGTH=64\n\z/,
	    "$kind: 2 peers writing on after the timeout's close, 2 workers: "
	    . 'a request is served within fastcgi_timeout')
	    or diag(fcgi_describe($r));
	note(sprintf("$kind: served after %.2f s", time - $t0));
	kill 'TERM', @peers;
	waitpid($_, 0) for @peers;

	is(join(' ', $cw->workers), "@pool", "$kind: no worker died or was "
	    . 'replaced');
	ok($cw->stop, "$kind: nothing of cgiwrap left")
	    or diag($cw->stop_problem);
	ok(no_scripts_left($fx, T(10)), "$kind: no process of the programs "
	    . 'left') or diag(show_pids(script_pids($fx)));
}

run_kind($_) for qw(unix tcp);
done_testing;
