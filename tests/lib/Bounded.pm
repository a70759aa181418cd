package Bounded;

# Commands run to completion within a time limit, for the tests that drive
# other tools (fuzz.t, valgrind.t):
#
#   use lib "$FindBin::Bin/../lib";
#   use Bounded qw(run_bounded in_path slurp);
#
#   my $st = run_bounded(dir => $tmp, out => "$tmp/log", limit => 60,
#       env => { TMPDIR => $tmp, FUZZ_VERBOSE => undef }, cmd => [...]);
#
# Killed (prove's timeout, ^C, prove gone), a test that uses this module
# takes the running command along and leaves through exit, so that its
# temporary directories are removed.

use strict;
use warnings;
use Exporter qw(import);
use POSIX qw(:sys_wait_h _exit);
use Time::HiRes qw(time sleep);
use Poll qw(slurp in_path);

our @EXPORT_OK = qw(run_bounded in_path slurp);

my $running;	# process group of the command being run
my @FATAL = qw(TERM INT HUP PIPE);
$SIG{$_} = sub {
	$SIG{$_} = 'IGNORE' for @FATAL;	# the END blocks may write still
	kill('KILL', -$running) if $running;
	exit 1;
} for @FATAL;

# run_bounded(cmd => [ARGV], dir => DIR, out => FILE, limit => SECONDS,
#   env => { NAME => VALUE | undef })
# Run ARGV in its own process group in DIR, stdin from /dev/null, stdout
# and stderr to FILE, the environment changed by ENV (undef removes a
# name); killed past LIMIT seconds.  Returns its wait status, or -1 when
# it was killed for taking too long.
sub run_bounded {
	my (%o) = @_;
	my @cmd = @{ $o{cmd} };
	my %env = %{ $o{env} // {} };
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		setpgrp(0, 0);
		chdir $o{dir} or _exit(126);
		open(STDIN, '<', '/dev/null') or _exit(126);
		open(STDOUT, '>', $o{out}) or _exit(126);
		open(STDERR, '>&', \*STDOUT) or _exit(126);
		@ENV{keys %env} = values %env;
		delete @ENV{grep { !defined $env{$_} } keys %env};
		{ exec { $cmd[0] } @cmd; }
		_exit(127);
	}
	my $end = time + $o{limit};
	$running = $pid;
	while (waitpid($pid, WNOHANG) == 0) {
		if (time > $end) {
			kill 'KILL', -$pid;
			waitpid($pid, 0);
			$running = undef;
			return -1;
		}
		sleep 0.05;
	}
	$running = undef;
	return $?;
}

1;
