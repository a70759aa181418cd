package Alternative;

# An update-alternatives(1) group is one per machine, and tests that
# change it (suexec.t installs the binary under test as the suexec
# alternative, deb.t installs and purges the package, which registers
# one) must not see each other's state when prove runs them side by
# side:
#
#   use lib "$FindBin::Bin/../lib";
#   use Alternative qw(alternative_lock alternative_state);
#
#   alternative_lock('suexec') or BAIL_OUT('...');
#   my $before = alternative_state('suexec');
#   ...            # install, use, restore
#   is(alternative_state('suexec'), $before, 'as it was found');
#
# The lock is an flock(2) on a file of /run/lock, held by the process
# until it exits (its END blocks, which restore the alternative,
# included): the kernel drops it however the test ends.

use strict;
use warnings;
use Carp qw(croak);
use Exporter qw(import);
use Fcntl qw(:flock O_RDWR O_CREAT);
use Poll qw(T wait_for);

our @EXPORT_OK = qw(alternative_lock alternative_state);

our $LOCKDIR = '/run/lock';
my %held;	# NAME => the locked handle, kept open until exit

# Waits (bounded) for the lock of the alternative NAME; true once held.
sub alternative_lock {
	my ($name) = @_;
	return 1 if $held{$name};
	my $path = "$LOCKDIR/cgiwrap-test-alternative-$name";
	# (Perl opens it close-on-exec: no program the test runs holds it.)
	sysopen(my $fh, $path, O_RDWR | O_CREAT, 0600) or
	    croak "$path: $!";
	# The other test may hold it for its whole run.
	wait_for(sub { flock($fh, LOCK_EX | LOCK_NB) }, T(600)) or return 0;
	$held{$name} = $fh;
	return 1;
}

# What update-alternatives --query says of NAME, '' when it knows none.
sub alternative_state {
	my ($name) = @_;
	my $q = `update-alternatives --query '$name' 2>/dev/null`;
	return $? == 0 ? $q : '';
}

1;
