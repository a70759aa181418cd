#!/usr/bin/perl
# `make demo` (issue 3 point 6), run as a new user would, on a free
# DEMO_PORT, with the binary under test (CGIWRAP):
#   - DEMO_KEEP=0: it completes (exit 0) and prints the three outcomes,
#     taken from cgiwrap's log line and the shutdown command's record:
#     quick.cgi NORMAL (0) with HTTP 200; report.cgi ABORTED (1) after the
#     client left, with the report's work finished (report.txt written
#     after the client left); hung.cgi TIMEOUT (2) with HTTP 504.  Then
#     Apache is gone and the demo's directory removed.
#   - DEMO_KEEP=1 (the default): after the walk-through it keeps serving
#     (a request still works) until SIGINT to its process group, as Ctrl-C
#     in a terminal sends; then it stops Apache and cleans up.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(abs_path);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time);
use Server qw(:all run_cgi);

my $CGIWRAP = cgiwrap_behind_servers(servers => ['apache'], curl => 0);
my $TOP = abs_path("$FindBin::Bin/../..");

my @MAKE = ('make', '--no-print-directory', '-C', $TOP, 'demo');

sub demo_dir {
	my ($out) = @_;
	return $out =~ /^\s*everything in\s+(\S+)/m ? $1 : undef;
}

sub gone {
	my ($dir, $name) = @_;
	ok(defined $dir, "$name: the demo named its directory");
	return unless defined $dir;
	ok(wait_for(sub { !pids_matching(qr/\Q$dir\E/) }, T(10)),
	    "$name: no process of the demo is left (Apache, scripts)")
	    or diag(join "\n", map { "  $_: " . (proc_cmdline($_) // '') }
	    pids_matching(qr/\Q$dir\E/));
	ok(!-e $dir, "$name: its directory $dir is removed");
	kill 'KILL', pids_matching(qr/\Q$dir\E/);
}

# ---------------------------------------------------------------------------
# DEMO_KEEP=0

my $port = free_port();
my $t0 = time;
my $r = run_cgi(argv => \@MAKE, timeout => T(60),
    env => { %ENV, CGIWRAP => $CGIWRAP, DEMO_KEEP => 0, DEMO_PORT => $port });
my $out = $r->{stdout};
note(sprintf('make demo (DEMO_KEEP=0) took %.1f s', time - $t0));
is($r->{exit}, 0, 'make demo DEMO_KEEP=0 exits 0')
    or diag("stdout:\n$out\nstderr:\n$r->{stderr}");
ok(!$r->{killed}, 'it ended by itself within 60 s');
like($out, qr{on http://127\.0\.0\.1:$port/}, 'it uses DEMO_PORT');

like($out, qr/^1\. quick\.cgi.*?HTTP 200 .*?=> NORMAL \(0\)/ms,
    'quick.cgi: HTTP 200, then NORMAL (0)');
like($out, qr/^2\. report\.cgi.*?the client left after 1\.\d+ s \(curl exit 28\)/ms,
    'report.cgi: the client left after 1 s');
like($out, qr/^\s+report\.txt written \d+\.\d s after the client left: \S+ report finished$/m,
    'report.cgi: the report finished its work after the client left');
like($out, qr/^2\. report\.cgi.*?=> ABORTED \(1\): the client left, and the report finished its work anyway/ms,
    'report.cgi: ABORTED (1)');
like($out, qr/^3\. hung\.cgi.*?HTTP 504 after 2\.\d+ s.*?=> TIMEOUT \(2\)/ms,
    'hung.cgi: HTTP 504 after 2 s, then TIMEOUT (2)');
like($out, qr/^Summary\n\s+quick\.cgi\s+NORMAL\s+\(0\).*\n\s+report\.cgi\s+ABORTED\s+\(1\)\s+the client left, and the report finished its work anyway\n\s+hung\.cgi\s+TIMEOUT\s+\(2\)/m,
    'the summary lists the three outcomes');
# Each outcome is shown from the log line and the shutdown record.
for my $s (['quick.cgi', 'NORMAL', 0], ['report.cgi', 'ABORTED', 1],
    ['hung.cgi', 'TIMEOUT', 2]) {
	my ($name, $st, $n) = @$s;
	like($out, qr{log line:\s+\S+Z .* target=\S*/\Q$name\E status=$st\b},
	    "$name: its log line is shown");
	like($out, qr{shutdown record:\s+\S+ target=\S*/\Q$name\E status=$n name=$st\b},
	    "$name: its shutdown record is shown");
}
unlike($out, qr/UNEXPECTED|MISSING/, 'nothing unexpected');
unlike($out, qr/Apache keeps serving/, 'DEMO_KEEP=0 does not keep serving');
gone(demo_dir($out), 'DEMO_KEEP=0');

# ---------------------------------------------------------------------------
# DEMO_KEEP=1: serves until SIGINT

$port = free_port();
my $log = File::Temp->new;
my $pid = fork // die "fork: $!";
if ($pid == 0) {
	POSIX::setpgid(0, 0);
	open(STDIN, '<', '/dev/null');
	open(STDOUT, '>', "$log");
	open(STDERR, '>&', \*STDOUT);
	$ENV{CGIWRAP} = $CGIWRAP;
	$ENV{DEMO_PORT} = $port;
	delete $ENV{DEMO_KEEP};
	exec @MAKE or POSIX::_exit(127);
}
my $serving = wait_for(sub { slurp("$log") =~ /Apache keeps serving/ }, T(60));
ok($serving, 'DEMO_KEEP unset: it keeps serving after the walk-through')
    or diag(slurp("$log"));
my $dir = demo_dir(slurp("$log"));
if ($serving) {
	my $q = curl_get("http://127.0.0.1:$port/cgi-bin/quick.cgi", max_time => T(10));
	is($q->{code}, 200, 'a request after the walk-through is served');
	like($q->{body}, qr/Hello from quick\.cgi/, 'by quick.cgi');
	ok(wait_for(sub { slurp("$log") =~ /^\s+record: .*quick\.cgi status=0/m }, T(10)),
	    'the request\'s shutdown record is shown as it comes');
}
my $t1 = time;
kill 'INT', -$pid;	# Ctrl-C in a terminal
my $st;
my $ended = wait_for(sub {
	return 0 unless waitpid($pid, WNOHANG) == $pid;
	$st = $?;
	return 1;
}, T(20));
ok($ended, sprintf('Ctrl-C ends it (%.1f s)', time - $t1));
unless ($ended) {
	kill 'KILL', -$pid;
	waitpid($pid, 0);
}
like(slurp("$log"), qr/Stopping Apache/, 'it says it stops Apache');
ok(!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
    Proto => 'tcp', Timeout => 1), "nothing listens on port $port any more");
gone($dir, 'Ctrl-C');
done_testing;
