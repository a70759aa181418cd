#!/usr/bin/perl
# Integration: resource accounting per request.  The log line's
# cpu_user_ms, cpu_sys_ms, max_rss_kb and procs and the shutdown
# commands' CGIWRAP_CPU_USER_MS, CGIWRAP_CPU_SYS_MS, CGIWRAP_MAX_RSS_KB
# and CGIWRAP_PROCS cover the program and every descendant: one its
# shell waited for itself, and one left to the supervisor (an orphan).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

# The orphan: 64 MiB resident, 300 ms of user and 150 ms of system time.
my $HOG = <<'PL';
my $x = "a" x (64 << 20);
1 while (times)[0] < 0.3;
open(my $z, "<", "/dev/zero") or die;
sysread($z, my $b, 1 << 20) while (times)[1] < 0.15;
PL

both_modes 'CPU, peak RSS and processes of the whole tree' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	$t->write_file('hog.pl', $HOG, 0644);
	# The inner shell leaves the hog to the supervisor; the outer one
	# waits until the supervisor reaped it (a zombie still answers
	# kill -0), then burns 300 ms of its own child's user time.
	my $prog = $t->script('usage.sh', <<'SH');
sh -c 'perl "$1"/hog.pl & echo $! > "$1"/hog.pid' sh "$D"
hog=$(cat "$D/hog.pid")
while kill -0 "$hog" 2>/dev/null; do sleep 0.05; done
perl -e '1 while (times)[0] < 0.3'
printf 'Content-Type: text/plain\r\n\r\nok\n'
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(10)), 0, 'front exits 0');
	my ($rec, $log) = $t->ended(
	    { STATUS_NAME => 'NORMAL', PROCS => 2 },
	    { status => 'NORMAL', procs => 2 }, within => 10);
	# times() counts in ticks: a little less than asked may show.
	cmp_ok($log->{cpu_user_ms} // 0, '>=', 550,
	    'cpu_user_ms: both perls\' user time');
	cmp_ok($log->{cpu_sys_ms} // 0, '>=', 130,
	    'cpu_sys_ms: the orphan\'s system time');
	cmp_ok($log->{max_rss_kb} // 0, '>=', 64 << 10,
	    'max_rss_kb: the orphan\'s 64 MiB');
	for my $k (qw(cpu_user_ms cpu_sys_ms max_rss_kb procs)) {
		is($rec->{'CGIWRAP_' . uc $k}, $log->{$k},
		    "CGIWRAP_\U$k\E is the log line's $k");
	}
};

both_modes 'a program that only exits counts itself' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('plain.sh',
	    "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	my ($rec, $log) = $t->ended({ PROCS => 1, CPU_USER_MS => qr/^\d+$/,
	    CPU_SYS_MS => qr/^\d+$/, MAX_RSS_KB => qr/^[1-9]\d*$/ },
	    { procs => 1, cpu_user_ms => qr/^\d+$/, cpu_sys_ms => qr/^\d+$/,
	    max_rss_kb => qr/^[1-9]\d*$/ });
};

done_testing;
