#!/usr/bin/perl
# Integration: ignore_user_abort = true.  The front leaves at once after
# the hangup, the child runs on unharmed (no SIGPIPE, no EPIPE, no blocked
# write), notify_signal arrives once; the time limit still applies.
# SPEC R-POL-2, R-STAT-1, R-SHUT-3.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

# The child: "ready", then waits for the test's go, then writes 256 chunks
# of 8 KiB (2 MiB, far more than any pipe holds), each write checked.
my $WORKER = <<'SH';
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\nready\n'
n=0
while [ ! -e "$D/go" ] && [ $n -lt 1000 ]; do sleep 0.01; n=$((n+1)); done
i=0
while [ $i -lt 256 ]; do
	cat "$D/chunk" || echo "write $i failed: $?" >> "$D/fail"
	i=$((i+1))
done
echo done > "$D/done"
SH

both_modes 'ignored abort: child finishes unharmed, notify_signal once' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { ignore_user_abort => 'true',
	    notify_signal => '"USR1"', max_execution_time => '20s' });
	$t->write_file('chunk', ('x' x 8191) . "\n");
	my $prog = $t->script('worker.sh',
	    qq{trap 'echo usr1 >> "\$D/usr1"' USR1\n} . $WORKER);
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/ready\n/, T(5)), 'response started') or return;
	my $cpid = $t->read_pidfile('child.pid');
	$r->hangup;
	is($r->wait_exit(T(2)), 141, 'front gone soon after the hangup (141)');
	ok(pids_alive($cpid), 'child still runs');
	ok($t->wait_lines('usr1', T(3)),
	    'notify_signal USR1 arrived while the child was silent');
	$t->write_file('go', '');
	ok(wait_for_file($t->path('done'), T(15)), 'child finished its work');
	ok(!-e $t->path('fail'), 'no write failed (no SIGPIPE, no EPIPE)')
	    or diag(join "\n", $t->file_lines('fail'));
	my ($rec, $log) = $t->ended({
		STATUS => 1, STATUS_NAME => 'ABORTED', EXIT_CODE => 'exited',
		EXIT_STATUS => 0, PID => $cpid,
	},
	    { status => 'ABORTED', exit => 'exited:0' });
	is(scalar(my @l = $t->file_lines('usr1')), 1, 'USR1 arrived exactly once');
};

both_modes 'ignored abort without notify_signal: no signal at all' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { ignore_user_abort => 'true',
	    max_execution_time => '20s' });
	$t->write_file('chunk', ('y' x 8191) . "\n");
	my $traps = join '', map {
	    qq{trap 'echo $_ >> "\$D/signals"' $_\n} } qw(TERM HUP INT USR1 USR2);
	my $prog = $t->script('worker.sh', $traps . $WORKER);
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/ready\n/, T(5)), 'response started') or return;
	$r->hangup;
	is($r->wait_exit(T(2)), 141, 'front gone soon after the hangup (141)');
	$t->write_file('go', '');
	ok(wait_for_file($t->path('done'), T(15)), 'child finished its work');
	ok(!-e $t->path('fail'), 'no write failed');
	my ($rec) = $t->outcome(T(5));
	ok(!-e $t->path('signals'), 'child got no signal')
	    or diag(join ' ', $t->file_lines('signals'));
	check_fields($rec, { STATUS => 1, EXIT_CODE => 'exited',
	    EXIT_STATUS => 0 }, 'CGIWRAP_');
};

both_modes 'ignored abort, then the time limit: status 3' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { ignore_user_abort => 'true',
	    max_execution_time => '2s' });
	$t->sleeper('nap');
	my $prog = $t->script('slow.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\nready\n'
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/ready\n/, T(5)), 'response started') or return;
	my $cpid = $t->read_pidfile('child.pid');
	$r->hangup;
	is($r->wait_exit(T(1.5)), 141, 'front gone soon after the hangup');
	ok(pids_alive($cpid), 'child still runs after the front left');
	my ($rec, $log) = $t->ended({
		STATUS => 3, STATUS_NAME => 'ABORTED,TIMEOUT',
		EXIT_CODE => 'killed', EXIT_STATUS => 'TERM', PID => $cpid,
	}, undef, within => 6);
	ok(($rec->{CGIWRAP_ELAPSED_MS} // 0) >= 1900, 'ran its 2 s')
	    or diag("elapsed_ms: " . ($rec->{CGIWRAP_ELAPSED_MS} // 'undef'));
	check_fields($log, { status => 'ABORTED,TIMEOUT', exit => 'killed:TERM' });
};

done_testing;
