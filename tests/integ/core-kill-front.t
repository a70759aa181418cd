#!/usr/bin/perl
# Integration: the web server kills the front (SIGKILL at several moments,
# SIGTERM as Apache's cleanup sends).  The supervisor must still signal,
# reap, run the shutdown command exactly once and write the log line.
# SPEC R-PROC-3, R-STAT-2, R-SHUT-1, R-POL-4, section 9.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

# Child programs, by the moment the front is killed.
my %PROG = (
	'before any output' => <<'SH',
echo $$ > "$D/child.pid"
"$D/nap" 1000 &
wait
SH
	'after the header' => <<'SH',
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\n'
"$D/nap" 1000 &
wait
SH
	'mid-body' => <<'SH',
echo $$ > "$D/child.pid"
printf 'Content-Type: application/octet-stream\r\n\r\n'
while :; do cat "$D/chunk"; done
SH
);

# What the harness reads before the kill, by moment.
my %READ = (
	'before any output' => undef,
	'after the header' => qr/\r\n\r\n/,
	'mid-body' => 1 << 20,
);

for my $moment ('before any output', 'after the header', 'mid-body') {
	both_modes "front SIGKILLed $moment" => sub {
		my ($mode) = @_;
		my $t = Harness->new;
		$t->sleeper('nap');
		$t->write_file('chunk', 'z' x 65536);
		my $prog = $t->script('prog.sh', $PROG{$moment});
		my $r = $t->run(mode => $mode, argv => [$prog]);
		my $cpid = $t->wait_pidfile('child.pid', T(5));
		ok($cpid, 'child started') or return;
		if ($READ{$moment}) {
			ok($r->read_until($READ{$moment}, T(5)),
			    'read what the child wrote so far') or return;
		} else {
			ok(wait_for(sub { $t->procs($t->path('nap')) }, T(5)),
			    'child waits');
		}
		ok($r->kill_front('KILL'), 'SIGKILL sent to the front');
		ok(defined $r->wait_exit(T(2)), 'front is gone');
		is($r->exit_signal, 9, 'front died of SIGKILL');
		my ($rec, $log) = $t->ended({
			STATUS => 1, STATUS_NAME => 'ABORTED',
			EXIT_CODE => 'killed', EXIT_STATUS => ['TERM', 'KILL'],
			PID => $cpid,
		},
		    { status => 'ABORTED', pid => $cpid,
		    exit => qr/^killed:(TERM|KILL)\z/ });
		is_deeply([pids_alive($cpid)], [], 'child is gone');
	};
}

both_modes 'front SIGKILLed after the child closed stdout: still NORMAL' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my ($r, $cpid) = $t->closed_then_works($mode, 0,
	    'server sees the end of the response while the child runs')
	    or return;
	ok(pids_alive($cpid), 'child still runs');
	$r->kill_front('KILL');	# unless it has already exited
	ok(defined $r->wait_exit(T(2)), 'front is gone');
	$t->write_file('go', '');
	ok(wait_for_file($t->path('finished'), T(5)), 'child finished');
	my ($rec, $log) = $t->ended({
		STATUS => 0, STATUS_NAME => 'NORMAL', EXIT_CODE => 'exited',
		EXIT_STATUS => 0, PID => $cpid,
	},
	    { status => 'NORMAL', exit => 'exited:0' });
};

both_modes 'front SIGKILLed with ignore_user_abort: child runs on' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { ignore_user_abort => 'true',
	    notify_signal => '"USR1"' });
	my $prog = $t->script('patient.sh', <<'SH');
echo $$ > "$D/child.pid"
trap 'echo usr1 >> "$D/usr1"' USR1
printf 'Content-Type: text/plain\r\n\r\nready\n'
n=0
while [ ! -e "$D/go" ] && [ $n -lt 1000 ]; do sleep 0.01; n=$((n+1)); done
i=0
while [ $i -lt 64 ]; do
	echo "line $i" || echo "write $i failed" >> "$D/fail"
	i=$((i+1))
done
echo finished > "$D/finished"
exit 5
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/ready\n/, T(5)), 'response started') or return;
	my $cpid = $t->read_pidfile('child.pid');
	$r->kill_front('KILL');
	ok(defined $r->wait_exit(T(2)), 'front is gone');
	ok($t->wait_lines('usr1', T(3)), 'notify_signal arrived');
	ok(pids_alive($cpid), 'child still runs');
	$t->write_file('go', '');
	ok(wait_for_file($t->path('finished'), T(5)), 'child finished');
	ok(!-e $t->path('fail'), 'its writes did not fail');
	my ($rec, $log) = $t->ended({ STATUS => 1, EXIT_CODE => 'exited',
	    EXIT_STATUS => 5, PID => $cpid },
	    { status => 'ABORTED', exit => 'exited:5' });
	is(scalar(my @l = $t->file_lines('usr1')), 1, 'USR1 once');
};

both_modes 'front SIGTERMed (Apache cleanup): exit 143, abort' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	$t->sleeper('nap');
	my $prog = $t->script('silent.sh', <<'SH');
echo $$ > "$D/child.pid"
trap 'echo TERM >> "$D/term"; trap - TERM; kill -TERM $$' TERM
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	my $cpid = $t->wait_pidfile('child.pid', T(5));
	ok($cpid, 'child started') or return;
	ok(wait_for(sub { $t->procs($t->path('nap')) }, T(5)), 'child waits');
	$r->kill_front('TERM');
	is($r->wait_exit(T(2)), 143, 'front exits 128+SIGTERM');
	ok($t->wait_lines('term', T(3)), 'child got TERM');
	my ($rec, $log) = $t->ended({ STATUS => 1, STATUS_NAME => 'ABORTED',
	    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM' },
	    { status => 'ABORTED', exit => 'killed:TERM' });
};

done_testing;
