#!/usr/bin/perl
# The unit test binaries are clean under valgrind memcheck (issue 6): each
# of $CGIWRAP_UNITS/t_* (default build/tests/unit, made by `make units`)
# runs under valgrind --error-exitcode=1 --leak-check=full, passes, and
# valgrind reports nothing (no invalid access, no use of uninitialised
# memory, no leak definitely or possibly lost).
#
# The units of the AddressSanitizer build cannot run under valgrind (ASan
# maps shadow memory valgrind refuses): that pass of the suite is skipped,
# the plain build's pass checks the same code.  Statically linked units
# cannot be checked either (valgrind cannot replace malloc in a static
# glibc, and reports the static glibc's own internals): dynamically linked
# copies are then built in a temporary directory and run instead.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(time);
use Bounded qw(run_bounded in_path slurp);
use Poll qw(T);

my $TOP = abs_path("$FindBin::Bin/../..");
my $UNITS = $ENV{CGIWRAP_UNITS} || 'build/tests/unit';
$UNITS = "$TOP/$UNITS" unless $UNITS =~ m{^/};

sub units {
	my ($dir) = @_;
	return grep { -f $_ && -x _ && m{/t_[A-Za-z0-9_]+$} } glob("$dir/t_*");
}

# Whether an ELF file asks for a program interpreter (is dynamically
# linked); undef when it is not ELF.
sub dynamic {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or return undef;
	my $h;
	return undef unless read($fh, $h, 64) == 64 && substr($h, 0, 4) eq
	    "\x7fELF";
	my ($class, $data) = unpack('x4 C C', $h);
	my ($u16, $u32, $u64) = $data == 2 ? ('n', 'N', 'Q>') :
	    ('v', 'V', 'Q<');
	my ($phoff, $phentsize, $phnum) = $class == 2 ?
	    (unpack("x32 $u64", $h), unpack("x54 $u16 $u16", $h)) :
	    (unpack("x28 $u32", $h), unpack("x42 $u16 $u16", $h));
	for my $i (0 .. $phnum - 1) {
		my $type;
		seek($fh, $phoff + $i * $phentsize, 0) or return undef;
		read($fh, $type, 4) == 4 or return undef;
		return 1 if unpack($u32, $type) == 3;	# PT_INTERP
	}
	return 0;
}

# Run a command in $TOP (the units read tests/unit/conf), output to $out,
# killed past $limit seconds (Bounded::run_bounded).
sub run {
	my ($out, $limit, @cmd) = @_;
	return run_bounded(dir => $TOP, out => $out, limit => $limit,
	    cmd => \@cmd);
}

plan skip_all => 'valgrind not installed (make deps installs it)'
    unless in_path('valgrind');
my @units = units($UNITS);
plan skip_all => "no unit test binaries in $UNITS (make units)"
    unless @units;
if (my @asan = grep { index(slurp($_), '__asan_init') >= 0 } @units) {
	plan skip_all => "the units in $UNITS are built with " .
	    'AddressSanitizer, which valgrind cannot run; the plain ' .
	    "build's units are checked in its pass";
}

my $TMP = tempdir('cgiwrap-valgrind.XXXXXX', TMPDIR => 1, CLEANUP => 1);

if (my @static = grep { !dynamic($_) } @units) {
	note("statically linked units in $UNITS: valgrind cannot check " .
	    'them; building dynamically linked ones in a temporary directory');
	local %ENV = %ENV;
	delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};
	my $st = run("$TMP/build.log", 600, 'make', '-C', $TOP,
	    '--no-print-directory', "O=$TMP/build", 'STATIC=', 'units');
	ok($st == 0, 'dynamically linked units built') or do {
		diag(slurp("$TMP/build.log"));
		done_testing();
		exit;
	};
	@units = units("$TMP/build/tests/unit");
	if (my @still = grep { !dynamic($_) } @units) {
		fail('units linked dynamically for valgrind');
		diag("still statically linked: @still");
		done_testing();
		exit;
	}
}

for my $unit (@units) {
	my $name = $unit =~ s{.*/}{}r;
	my $log = "$TMP/$name";		# valgrind writes its cores beside
	my $t0 = time;
	my $st = run("$TMP/$name.out", T(300), 'valgrind', '-q',
	    '--error-exitcode=1', '--leak-check=full', '--track-origins=yes',
	    "--log-file=$log.%p.vglog", $unit);
	my $report = join('', map { slurp($_) } glob("$log.*.vglog"));
	my $tap = slurp("$TMP/$name.out");
	my @notok = grep { /^not ok/ } split(/\n/, $tap);
	ok($st == 0 && $report eq '' && !@notok && $tap =~ /^1\.\.\d+/m,
	    "$name passes and is clean under valgrind memcheck")
	    or do {
		diag($st == -1 ? "$name: killed, did not end in time" :
		    "$name: exit status " . ($st >> 8) . ', signal ' .
		    ($st & 127));
		diag("failed: $_") for @notok;
		diag($report) if $report ne '';
	};
	note(sprintf('%s took %.1f s under valgrind', $name, time - $t0));
}

done_testing();
