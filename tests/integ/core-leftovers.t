#!/usr/bin/perl
# Integration: processes the child leaves behind, in its process group
# (sleep &) and escaped from it (setsid sleep &).  SPEC R-POL-5, R-SHUT-1.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

# Start the two leftovers, recording their pids.  REDIR is put after each.
sub starters {
	my ($redir) = @_;
	return <<"SH";
echo \$\$ > "\$D/child.pid"
"\$D/left-bg" 1000 $redir &
echo \$! > "\$D/bg.pid"
setsid "\$D/left-sid" 1000 $redir &
echo \$! > "\$D/sid.pid"
SH
}

# Wait (in the child) until both leftovers have become sleeps.
my $UNTIL_STARTED = <<'SH';
for f in bg sid; do
	n=0
	until tr '\0' ' ' < /proc/$(cat "$D/$f.pid")/cmdline 2>/dev/null |
	    grep -q "left-$f"; do
		n=$((n+1)); [ $n -gt 500 ] && break
		sleep 0.01
	done
done
SH

sub leftovers {
	my ($t) = @_;
	return $t->procs($t->path('left-'));
}

# The pids the program wrote for its two leftovers.
sub leftover_pids {
	my ($t) = @_;
	return map { $t->read_pidfile("$_.pid") } qw(bg sid);
}

sub setup {
	my (%conf) = @_;
	my $t = Harness->new(conf => \%conf);
	$t->sleeper($_) for qw(left-bg left-sid left-fg);
	return $t;
}

# Check that the leftovers exist and one of them escaped the session.
sub check_started {
	my ($t, $cpid) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	ok(wait_for(sub { leftovers($t) >= 2 }, T(5)), 'leftovers started')
	    or return;
	# setsid(1) is listed under its program's name before it calls
	# setsid(2): wait for the call.
	my $csid = session_of($cpid);
	ok(wait_for(sub { grep { session_of($_) != $csid }
	    $t->procs($t->path('left-sid')) }, T(5)),
	    'the setsid one is in its own session');
}

# The session of a process, from /proc/PID/stat (-1: gone).
sub session_of {
	my ($pid) = @_;
	my $st = slurp_or_undef("/proc/$pid/stat") // return -1;
	return (split ' ', $st =~ s/^.*\) //sr)[3] // -1;
}

# Start a program that starts the two leftovers, answers and blocks in
# a third sleep (left-fg); wait until all three run.  Returns (Harness,
# run, the child's pid), or nothing.
sub start_blocked {
	my ($mode, %conf) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $t = setup(%conf);
	my $prog = $t->script('prog.sh', starters('') . <<'SH');
printf 'Content-Type: text/plain\r\n\r\nready\n'
"$D/left-fg" 1000
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/ready\n/, T(5)), 'response started') or return;
	my $cpid = $t->read_pidfile('child.pid');
	check_started($t, $cpid);
	return ($t, $r, $cpid);
}

# Start a program that starts the two leftovers (their output elsewhere),
# waits until they run, answers and exits 0; check the front exits 0.
# Returns (Harness, run, pids of the two leftovers).
sub start_exiting {
	my ($mode, %conf) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $t = setup(%conf);
	my $prog = $t->script('prog.sh', starters('>/dev/null 2>&1 </dev/null')
	    . $UNTIL_STARTED . <<'SH');
printf 'Content-Type: text/plain\r\n\r\ndone\n'
exit 0
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	return ($t, $r, leftover_pids($t));
}

# Nothing of PIDS (WHAT) is left by the time the shutdown command runs
# (waited for WAIT seconds); then the end of the request, with the fields
# WANT of the shutdown record.
sub none_left {
	my ($t, $wait, $what, $want, @pids) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $rec = $t->wait_rec(T($wait));
	ok($rec, 'shutdown command ran');
	is_deeply([leftovers($t)], [], 'none left when the shutdown command runs')
	    or diag($t->ps);
	is_deeply([pids_alive(@pids)], [], "$what are gone");
	($rec) = $t->outcome(T(5));
	check_fields($rec, $want, 'CGIWRAP_');
}

both_modes 'leftovers after an abort: none left' => sub {
	my ($mode) = @_;
	my ($t, $r, $cpid) = start_blocked($mode) or return;
	ok(wait_for(sub { leftovers($t) == 3 }, T(5)), 'child blocks');
	my @pids = ($cpid, leftover_pids($t));
	$r->hangup;
	is($r->wait_exit(T(3)), 141, 'front exits 141');
	none_left($t, 6, 'child and leftovers', { STATUS => 1 }, @pids);
};

both_modes 'leftovers after a timeout: none left' => sub {
	my ($mode) = @_;
	my ($t, $r, $cpid) = start_blocked($mode, max_execution_time => '1s')
	    or return;
	my @pids = ($cpid, leftover_pids($t));
	is($r->finish(T(6)), 124, 'front exits 124');
	none_left($t, 5, 'child and leftovers', { STATUS => 2 }, @pids);
};

both_modes 'orphans = "kill": none left after a normal exit' => sub {
	my ($mode) = @_;
	my ($t, $r, @pids) = start_exiting($mode, orphans => '"kill"');
	is($r->stdout, "Content-Type: text/plain\r\n\r\ndone\n", 'response');
	is(scalar(grep { defined } @pids), 2, 'leftovers were started');
	none_left($t, 5, 'leftovers', { STATUS => 0, EXIT_CODE => 'exited',
	    EXIT_STATUS => 0 }, @pids);
};

both_modes 'orphans = "leave" (default): leftovers stay after a normal exit'
    => sub {
	my ($mode) = @_;
	my ($t, $r, @pids) = start_exiting($mode);
	my ($rec) = $t->ended({ STATUS => 0, EXIT_CODE => 'exited' }, undef,
	    except => qr/left-/);
	is(scalar(pids_alive(@pids)), 2, 'both leftovers still run');
	is(scalar(leftovers($t)), 2, 'and they are the sleeps');
	# Harness cleanup kills them.
};

done_testing;
