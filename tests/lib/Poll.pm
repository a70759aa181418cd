package Poll;

# The bounded waits and file reads every test library and test shares
# (Harness, Server, Nginx, Bounded re-export what their tests use):
#
#   use lib "$FindBin::Bin/../lib";
#   use Poll qw(T wait_for wait_for_file wait_for_data slurp);
#
#   ok(wait_for(sub { -e "$dir/ready" }, T(5)), 'ready');
#   my $pid = wait_for_data("$dir/pid", T(5)) ? slurp("$dir/pid") : undef;
#
# Every wait is bounded and polls every POLL seconds; nothing sleeps in
# place of synchronisation.  Upper bounds go through T(), so that one
# slowness factor (CGIWRAP_TEST_SLOW) stretches them for a sanitizer
# build or a loaded machine.  No signal dispositions are touched here.

use strict;
use warnings;
use Carp qw(croak);
use Exporter qw(import);
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(T wait_for wait_for_file wait_for_data slurp
	slurp_or_undef proc_cmdline in_path);

our $POLL = 0.01;	# seconds between two looks in a bounded wait

# Whether PROG is an executable (a path) or one in PATH.
sub in_path {
	my ($prog) = @_;
	return -x $prog if $prog =~ m{/};
	return grep { -x "$_/$prog" } split(/:/, $ENV{PATH} // '');
}

# T(5) is 5 s, or 10 s with CGIWRAP_TEST_SLOW=2: an upper bound scaled
# for slow builds and loaded machines.  Use it for upper bounds only.
sub T { my ($s) = @_; return $s * ($ENV{CGIWRAP_TEST_SLOW} || 1) }

# Once a bounded wait of a subtest has timed out, the subtest has failed
# and its later waits are cut to DEGRADED_WAIT seconds, so that a broken
# binary fails the suite quickly instead of waiting out every deadline.
# Only where DEGRADED is defined (Harness's both_modes sets it to 0 for
# each subtest): elsewhere a wait that times out may be what a test
# expects, and must not shorten the next one.
our $DEGRADED;
our $DEGRADED_WAIT = 0.5;

sub cap_timeout {
	my ($t) = @_;
	return $DEGRADED && $t > $DEGRADED_WAIT ? $DEGRADED_WAIT : $t;
}

# A bounded wait has timed out; returns V.
sub timed_out {
	my ($v) = @_;
	$DEGRADED = 1 if defined $DEGRADED;
	return $v;
}

# Poll CODE until it returns true or TIMEOUT seconds pass; returns CODE's
# last value (false on timeout).
sub wait_for {
	my ($code, $timeout) = @_;
	croak 'wait_for needs a timeout' unless defined $timeout;
	my $deadline = time + cap_timeout($timeout);
	while (1) {
		my $v = $code->();
		return $v if $v;
		if (time >= $deadline) {
			return $timeout > 0 ? timed_out($v) : $v;
		}
		sleep $POLL;
	}
}

# Wait until PATH exists (a file created empty, or written by one
# write(2)); true if it did within TIMEOUT.
sub wait_for_file {
	my ($path, $timeout) = @_;
	return wait_for(sub { -e $path }, $timeout);
}

# Wait until PATH holds data (a file a shell writes with "echo > PATH"
# exists before its line is there); true if it did within TIMEOUT.
sub wait_for_data {
	my ($path, $timeout) = @_;
	return wait_for(sub { -s $path ? 1 : 0 }, $timeout);
}

# The bytes of PATH, undef when it cannot be read (gone, never written).
sub slurp_or_undef {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or return undef;
	local $/;
	my $s = <$fh>;
	return defined $s ? $s : '';
}

# The bytes of PATH, '' when it cannot be read: for a file the test only
# matches or prints.
sub slurp { return slurp_or_undef($_[0]) // '' }

# The command line of a process as one string (argv joined by spaces),
# undef when it is gone; empty for zombies and kernel threads.
sub proc_cmdline {
	my ($pid) = @_;
	my $c = slurp_or_undef("/proc/$pid/cmdline");
	return undef unless defined $c;
	$c =~ s/\0\z//;
	$c =~ tr/\0/ /;
	return $c;
}

1;
