#!/usr/bin/perl
# Integration: the client hangs up (the server closes its ends of stdout
# and stdin) while the child is silent; ignore_user_abort = false.
# SPEC R-STAT-2, R-POL-1, R-SHUT-1, R-SHUT-3, R-LOG-1, section 9.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use Harness;

Harness::require_binary();

# Wait until the child is in its blocking wait (its sleeper runs).
sub wait_blocked {
	my ($t, $cpid) = @_;
	return wait_for(sub { $t->procs($t->path('nap')) }, T(5));
}

sub first_stamp {
	my ($t, $name) = @_;
	my ($l) = $t->file_lines($name);
	return defined $l && $l =~ /^(\d+\.\d+)/ ? $1 : undef;
}

for my $started (0, 1) {
	my $what = $started ? 'after the response started' : 'before any output';
	both_modes "abort $what: child gets kill_signal TERM" => sub {
		my ($mode) = @_;
		my $t = Harness->new;
		$t->sleeper('nap');
		my $prog = $t->script('silent.sh', ($started ? <<'OUT' : '') . <<'SH');
printf 'Content-Type: text/plain\r\n\r\nstarted\n'
OUT
echo $$ > "$D/child.pid"
trap 'date +%s.%N >> "$D/term"; trap - TERM; kill -TERM $$' TERM
"$D/nap" 1000 &
wait
echo survived > "$D/survived"
SH
		my $r = $t->run(mode => $mode, argv => [$prog]);
		my $cpid = $t->wait_pidfile('child.pid', T(5));
		ok($cpid, 'child started') or return;
		ok(wait_blocked($t), 'child is waiting');
		if ($started) {
			ok($r->read_until(qr/started\n/, T(5)), 'response started');
			is($r->stdout, "Content-Type: text/plain\r\n\r\nstarted\n",
			    'what the child wrote arrived');
		}
		my $th = $r->hangup;
		is($r->wait_exit(T(3)), 141,
		    'front exits 128+SIGPIPE after the hangup');
		ok($t->wait_lines('term', T(3)), 'child got TERM');
		my $ts = first_stamp($t, 'term');
		ok(defined $ts && $ts - $th < T(1),
		    'TERM within 1 s of the hangup')
		    or diag(sprintf 'hangup to TERM: %s s',
			defined $ts ? sprintf('%.3f', $ts - $th) : 'never');
		my ($rec, $log) = $t->ended({
			STATUS => 1, STATUS_NAME => 'ABORTED',
			EXIT_CODE => 'killed', EXIT_STATUS => 'TERM',
			PID => $cpid,
		},
		    { status => 'ABORTED', exit => 'killed:TERM',
		    signals => 'TERM', pid => $cpid });
		ok(!-e $t->path('survived'), 'child did not go on');
		is(scalar(my @l = $t->file_lines('term')), 1, 'one TERM');
		is_deeply([pids_alive($cpid)], [], 'child is gone');
	};
}

both_modes 'abort: child that traps TERM gets KILL after kill_grace' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { kill_grace => '1s' });
	$t->sleeper('nap');
	my $prog = $t->script('stubborn.sh', <<'SH');
echo $$ > "$D/child.pid"
trap 'date +%s.%N >> "$D/term"' TERM
while :; do
	"$D/nap" 1000 &
	wait
done
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	my $cpid = $t->wait_pidfile('child.pid', T(5));
	ok($cpid, 'child started') or return;
	ok(wait_blocked($t), 'child is waiting');
	$r->hangup;
	is($r->wait_exit(T(3)), 141, 'front exits 128+SIGPIPE at once');
	ok($t->wait_lines('term', T(3)), 'child got TERM');
	ok(wait_for(sub { !pids_alive($cpid) }, T(5)), 'child died');
	my $died = time;
	my $ts = first_stamp($t, 'term');
	my $grace = defined $ts ? $died - $ts : -1;
	ok($grace >= 0.9 && $grace < T(2.5),
	    'KILL came kill_grace (1 s) after TERM')
	    or diag(sprintf 'TERM to death: %.3f s', $grace);
	my ($rec, $log) = $t->ended({
		STATUS => 1, STATUS_NAME => 'ABORTED',
		EXIT_CODE => 'killed', EXIT_STATUS => 'KILL', PID => $cpid,
	},
	    { status => 'ABORTED', exit => 'killed:KILL',
	    signals => 'TERM,KILL' });
	is(scalar(my @l = $t->file_lines('term')), 1, 'TERM was sent once');
};

both_modes 'abort: kill_signal = "USR2" is the signal sent' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { kill_signal => '"USR2"' });
	$t->sleeper('nap');
	my $prog = $t->script('usr2.sh', <<'SH');
echo $$ > "$D/child.pid"
trap 'echo TERM >> "$D/got"' TERM
trap 'echo USR2 >> "$D/got"; trap - USR2; kill -USR2 $$' USR2
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	my $cpid = $t->wait_pidfile('child.pid', T(5));
	ok($cpid, 'child started') or return;
	ok(wait_blocked($t), 'child is waiting');
	$r->hangup;
	is($r->wait_exit(T(3)), 141, 'front exits 128+SIGPIPE');
	my ($rec, $log) = $t->outcome(T(5));
	is_deeply([$t->file_lines('got')], ['USR2'], 'child got USR2 only');
	check_fields($rec, { STATUS => 1, EXIT_CODE => 'killed',
	    EXIT_STATUS => 'USR2' }, 'CGIWRAP_');
	check_fields($log, { status => 'ABORTED', exit => 'killed:USR2',
	    signals => 'USR2' });
};

done_testing;
