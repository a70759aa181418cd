#!/usr/bin/perl
# Integration: limit_* set rlimits in the child; SIGXCPU from limit_cpu
# ends the request with status TIMEOUT.  SPEC R-LIM, R-STAT-3.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

both_modes 'limit_* are the child\'s rlimits' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => {
		limit_cpu => 5, limit_memory => 1073741824, limit_nproc => 500,
		limit_nofile => 64, limit_fsize => 1000000,
	});
	my $prog = $t->script('limits.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
cat /proc/$$/limits
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	my (undef, $body) = $r->response;
	my %soft;
	for (split /\n/, $body // '') {
		$soft{$1} = $2 if /^(Max [a-z ]+?)\s{2,}(\S+)\s+\S+/;
	}
	is($soft{'Max cpu time'}, 5, 'limit_cpu (seconds)');
	is($soft{'Max address space'}, 1073741824, 'limit_memory (bytes)');
	is($soft{'Max processes'}, 500, 'limit_nproc');
	is($soft{'Max open files'}, 64, 'limit_nofile');
	is($soft{'Max file size'}, 1000000, 'limit_fsize (bytes)');
	my ($rec) = $t->ended({ STATUS => 0 });
};

both_modes 'limit_fsize: a write past it fails in the child' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { limit_fsize => 1000 });
	my $prog = $t->script('fsize.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
head -c 5000 /dev/zero > "$D/big"
echo "rc=$?"
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	like($r->stdout, qr/^rc=(?!0\n)\d+$/m, 'the writer failed');
	is(-s $t->path('big'), 1000, 'the file stopped at the limit');
	$t->outcome(T(5));
};

both_modes 'limit_cpu: SIGXCPU counts as TIMEOUT' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { limit_cpu => 1,
	    max_execution_time => '20s' });
	my $prog = $t->script('spin.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\nspinning\n'
while :; do :; done
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(10)), 124, 'front exits 124');
	my $took = ($r->exit_time // 0) - $r->started;
	ok($took < 19, 'ended by the 1 s CPU limit, not the 20 s wall limit')
	    or diag(sprintf '%.3f s', $took);
	my ($rec, $log) = $t->ended({
		STATUS => 2, STATUS_NAME => 'TIMEOUT',
		EXIT_CODE => ['killed', 'dumped'], EXIT_STATUS => ['XCPU', 'KILL'],
	},
	    { status => 'TIMEOUT',
	    exit => qr/^(killed|dumped):(XCPU|KILL)\z/ });
};

done_testing;
