#!/usr/bin/perl
# Fault matrix (issue 6): the client hangs up (the server closes its ends
# of stdout and stdin) at four moments: before the header (here while the
# request body is still coming: core-abort.t has the silent child), in the
# middle of a header line, in the middle of the body, and after the child
# closed its stdout (the response was complete: the status stays NORMAL).
# Each row: the front's exit, what reached the server, the status the
# shutdown command saw (exactly once) and the log line, and no process of
# the request left.  SPEC R-STAT-2, R-POL-1, R-POL-4, R-SHUT-1, R-LOG-1.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

both_modes 'hangup before the header, while the body is being sent' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	# Reads a little of the body, then waits without reading more: the
	# server's writes of the rest block.
	my ($r, $cpid, $size) = $t->stalled_upload($mode, 4096) or return;
	# Let the body pipe fill: the server is now blocked writing.
	wait_for(sub { my $w = $r->body_written; $r->pump(0.05);
	    $r->body_written == $w }, T(2));
	ok($r->body_written < $size, 'the body is not all sent')
	    or diag($r->body_written);
	is($r->stdout, '', 'nothing of a response yet');
	$r->hangup;
	is($r->wait_exit(T(3)), 141, 'front exits 128+SIGPIPE');
	my ($rec) = $t->aborted_by_term($cpid, {},
	    { http => '-', signals => 'TERM', pid => $cpid });
	ok(($rec->{CGIWRAP_BYTES_IN} // 0) >= 4096
	    && $rec->{CGIWRAP_BYTES_IN} <= $r->body_written,
	    'BYTES_IN: at least what the child read, at most what was sent')
	    or diag("BYTES_IN $rec->{CGIWRAP_BYTES_IN}, sent "
	    . $r->body_written);
	is(-s $t->path('got'), 4096, 'the child got the bytes it read');
	is_deeply([pids_alive($cpid)], [], 'child is gone');
};

both_modes 'hangup mid-header (half a header line written)' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my ($r, $cpid) = $t->written_then_waits($mode, 'Content-Type: text/pl',
	    'child wrote half a line and waits') or return;
	$r->pump(0.1);
	is($r->stdout, '', 'an incomplete header is not passed on');
	$r->hangup;
	is($r->wait_exit(T(3)), 141, 'front exits 128+SIGPIPE');
	$t->aborted_by_term($cpid, { BYTES_OUT => 0 },
	    { http => '-', out => 0, signals => 'TERM' });
	is_deeply([pids_alive($cpid)], [], 'child is gone');
};

both_modes 'hangup mid-body (the child writes without pause)' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	$t->write_file('chunk', 'b' x 65536);
	my $prog = $t->script('stream.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Status: 201 Created\r\nContent-Type: application/octet-stream\r\n\r\n'
while :; do cat "$D/chunk"; done
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(2 << 20, T(10)), 'read 2 MiB of the body') or return;
	my $cpid = $t->read_pidfile('child.pid');
	my ($head, $body) = $r->response;
	is($head, "Status: 201 Created\r\nContent-Type: application/octet-stream",
	    'the header block arrived whole');
	ok($body =~ /\Ab+\z/, 'the body is the child\'s bytes');
	$r->hangup;
	is($r->wait_exit(T(3)), 141, 'front exits 128+SIGPIPE');
	my ($rec, $log) = $t->ended({
		STATUS => 1, STATUS_NAME => 'ABORTED', EXIT_CODE => 'killed',
		EXIT_STATUS => ['TERM', 'KILL'], PID => $cpid,
		HTTP_STATUS => 201,
	});
	ok(($rec->{CGIWRAP_BYTES_OUT} // 0) >= length $body,
	    'BYTES_OUT counts at least what the server read')
	    or diag("BYTES_OUT $rec->{CGIWRAP_BYTES_OUT}, read "
	    . length $body);
	check_fields($log, { status => 'ABORTED', http => 201,
	    exit => qr/^killed:(TERM|KILL)\z/,
	    out => $rec->{CGIWRAP_BYTES_OUT} // 'none' });
	is_deeply([pids_alive($cpid)], [], 'child is gone');
};

both_modes 'hangup after the child closed stdout: NORMAL' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my ($r, $cpid) = $t->closed_then_works($mode, 3,
	    'the server sees the end of the response') or return;
	ok(pids_alive($cpid), 'child still works');
	$r->hangup;
	# The front has nothing left to watch: it is not told, and it must
	# not take the hangup for an abort.
	ok(!defined $r->wait_exit(0.3), 'front waits for the child');
	local $Poll::DEGRADED = 0;
	ok(pids_alive($cpid), 'child was not stopped');
	$t->write_file('go', '');
	ok(wait_for_file($t->path('finished'), T(5)), 'child finished');
	is($r->wait_exit(T(3)), 3, 'front exits with the child\'s status');
	my ($rec, $log) = $t->ended({
		STATUS => 0, STATUS_NAME => 'NORMAL', EXIT_CODE => 'exited',
		EXIT_STATUS => 3, PID => $cpid, HTTP_STATUS => 200,
		BYTES_OUT => 9,
	},
	    { status => 'NORMAL', exit => 'exited:3',
	    signals => '-', out => 9 });
};

done_testing;
