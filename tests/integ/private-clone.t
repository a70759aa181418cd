#!/usr/bin/perl
# A clone in a directory the web server's user cannot enter (under /root,
# mode 0700) passes the Apache tests: the test libraries copy what the
# server runs out of the clone.  The binary and the tests are copied into
# such a directory, and apache.t is run from there.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Server qw(cgiwrap_behind_apache make_tempdir make_dirs www_user);
use Harness qw(T);
use Bounded qw(run_bounded slurp);

my $bin = cgiwrap_behind_apache();
my $top = "$FindBin::Bin/../..";

my $private = make_tempdir('private') . '/clone';
mkdir $private, 0700 or die "mkdir $private: $!";
chmod 0700, $private or die "chmod $private: $!";
make_dirs($private, qw(tests tests/integ));
is(system('cp', '-R', "$top/tests/lib", "$private/tests/lib"), 0,
    'tests/lib copied');
is(system('cp', "$top/tests/integ/apache.t", "$private/tests/integ/"), 0,
    'apache.t copied');
is(system('cp', $bin, "$private/cgiwrap"), 0, 'the binary copied');
my $www = www_user();
isnt(system('setpriv', "--reuid=$www", "--regid=$www", '--clear-groups',
    'test', '-x', "$private/cgiwrap"), 0,
    "$www cannot run the binary in the private clone");

my $out = "$private/apache.out";
my $st = run_bounded(cmd => ['perl', "$private/tests/integ/apache.t"],
    dir => $private, out => $out, limit => T(120),
    env => { CGIWRAP => "$private/cgiwrap" });
is($st, 0, 'apache.t passes in the private clone')
    or diag(slurp($out));
unlike(slurp($out), qr/^\s*not ok/m, 'no failed check');

done_testing;
