#!/usr/bin/perl
# Integration: no busy waiting.  While the child is silent, cgiwrap's
# processes (front and supervisor) use < 1 ms CPU per second, measured
# from /proc/PID/schedstat (nanoseconds on CPU).  SPEC R-PROC-4.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Harness;

Harness::require_binary();

my $WINDOW = 2;		# seconds measured

# CPU nanoseconds of every process whose command line names the config
# (the front and the processes it forked without exec).
sub cpu_ns {
	my ($t) = @_;
	my %ns;
	for my $pid ($t->procs($t->conf)) {
		my $s = slurp("/proc/$pid/schedstat");
		$ns{$pid} = $1 if defined $s && $s =~ /^(\d+)/;
	}
	return \%ns;
}

# Measure for WINDOW seconds; returns (ms of CPU per second, pids seen).
sub measure {
	my ($t) = @_;
	my ($a, $t0) = (cpu_ns($t), time);
	sleep $WINDOW;		# the measurement window, not a synchronisation
	my ($b, $t1) = (cpu_ns($t), time);
	my $ns = 0;
	$ns += $b->{$_} - ($a->{$_} // 0) for keys %$b;
	return ($ns / 1e6 / ($t1 - $t0), scalar keys %$b);
}

my $PROG = <<'SH';
printf 'Content-Type: text/plain\r\n\r\nready\n'
"$D/nap" 1000 &
wait
SH

both_modes 'idle child, client connected: < 1 ms CPU per second' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_execution_time => '20s' });
	$t->sleeper('nap');
	my $prog = $t->script('idle.sh', $PROG);
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/ready\n/, T(5)), 'response started') or return;
	my ($ms, $n) = measure($t);
	ok($n >= 2, "front and supervisor measured ($n processes)");
	ok($ms < 1, sprintf('%.3f ms CPU per second', $ms));
	$r->hangup;
	$t->outcome(T(5));
};

both_modes 'idle child after an ignored abort: < 1 ms CPU per second' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_execution_time => '20s',
	    ignore_user_abort => 'true' });
	$t->sleeper('nap');
	my $prog = $t->script('idle.sh', $PROG);
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/ready\n/, T(5)), 'response started') or return;
	$r->hangup;
	ok(defined $r->wait_exit(T(2)), 'front gone');
	my ($ms, $n) = measure($t);
	ok($n >= 1, "supervisor measured ($n processes)");
	ok($ms < 1, sprintf('%.3f ms CPU per second', $ms));
	# End it: the harness's cleanup kills what is left.
};

done_testing;
