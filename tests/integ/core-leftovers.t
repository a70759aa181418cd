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
	my ($sid) = map { (split ' ', (slurp("/proc/$_/stat") // '')
	    =~ s/^.*\) //sr)[3] // -1 } $t->procs($t->path('left-sid'));
	my $csid = (split ' ', (slurp("/proc/$cpid/stat") // '')
	    =~ s/^.*\) //sr)[3] // -2;
	isnt($sid, $csid, 'the setsid one is in its own session');
}

both_modes 'leftovers after an abort: none left' => sub {
	my ($mode) = @_;
	my $t = setup();
	my $prog = $t->script('prog.sh', starters('') . <<'SH');
printf 'Content-Type: text/plain\r\n\r\nready\n'
"$D/left-fg" 1000
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/ready\n/, T(5)), 'response started') or return;
	my $cpid = $t->read_pidfile('child.pid');
	check_started($t, $cpid);
	ok(wait_for(sub { leftovers($t) == 3 }, T(5)), 'child blocks');
	my @pids = ($cpid, map { $t->read_pidfile("$_.pid") } qw(bg sid));
	$r->hangup;
	is($r->wait_exit(T(3)), 141, 'front exits 141');
	my $rec = $t->wait_rec(T(6));
	ok($rec, 'shutdown command ran');
	is_deeply([leftovers($t)], [], 'none left when the shutdown command runs')
	    or diag($t->ps);
	is_deeply([pids_alive(@pids)], [], 'child and leftovers are gone');
	($rec) = $t->outcome(T(5));
	check_fields($rec, { STATUS => 1 }, 'CGIWRAP_');
};

both_modes 'leftovers after a timeout: none left' => sub {
	my ($mode) = @_;
	my $t = setup(max_execution_time => '1s');
	my $prog = $t->script('prog.sh', starters('') . <<'SH');
printf 'Content-Type: text/plain\r\n\r\nready\n'
"$D/left-fg" 1000
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/ready\n/, T(5)), 'response started') or return;
	my $cpid = $t->read_pidfile('child.pid');
	check_started($t, $cpid);
	my @pids = ($cpid, map { $t->read_pidfile("$_.pid") } qw(bg sid));
	is($r->finish(T(6)), 124, 'front exits 124');
	my $rec = $t->wait_rec(T(5));
	ok($rec, 'shutdown command ran');
	is_deeply([leftovers($t)], [], 'none left when the shutdown command runs')
	    or diag($t->ps);
	is_deeply([pids_alive(@pids)], [], 'child and leftovers are gone');
	($rec) = $t->outcome(T(5));
	check_fields($rec, { STATUS => 2 }, 'CGIWRAP_');
};

my $NULL = '>/dev/null 2>&1 </dev/null';

both_modes 'orphans = "kill": none left after a normal exit' => sub {
	my ($mode) = @_;
	my $t = setup(orphans => '"kill"');
	my $prog = $t->script('prog.sh', starters($NULL) . $UNTIL_STARTED
	    . <<'SH');
printf 'Content-Type: text/plain\r\n\r\ndone\n'
exit 0
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, "Content-Type: text/plain\r\n\r\ndone\n", 'response');
	my @pids = map { $t->read_pidfile("$_.pid") } qw(bg sid);
	is(scalar(grep { defined } @pids), 2, 'leftovers were started');
	my $rec = $t->wait_rec(T(5));
	ok($rec, 'shutdown command ran');
	is_deeply([leftovers($t)], [], 'none left when the shutdown command runs')
	    or diag($t->ps);
	is_deeply([pids_alive(@pids)], [], 'leftovers are gone');
	($rec) = $t->outcome(T(5));
	check_fields($rec, { STATUS => 0, EXIT_CODE => 'exited',
	    EXIT_STATUS => 0 }, 'CGIWRAP_');
};

both_modes 'orphans = "leave" (default): leftovers stay after a normal exit'
    => sub {
	my ($mode) = @_;
	my $t = setup();
	my $prog = $t->script('prog.sh', starters($NULL) . $UNTIL_STARTED
	    . <<'SH');
printf 'Content-Type: text/plain\r\n\r\ndone\n'
exit 0
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	my @pids = map { $t->read_pidfile("$_.pid") } qw(bg sid);
	my ($rec) = $t->outcome(T(5), except => qr/left-/);
	check_fields($rec, { STATUS => 0, EXIT_CODE => 'exited' }, 'CGIWRAP_');
	is(scalar(pids_alive(@pids)), 2, 'both leftovers still run');
	is(scalar(leftovers($t)), 2, 'and they are the sleeps');
	# Harness cleanup kills them.
};

done_testing;
