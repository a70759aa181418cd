#!/usr/bin/perl
# Integration: max_execution_time.  SPEC R-STAT-3, R-POL-3, R-POL-1
# (escalation), section 9 (exit 124).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

both_modes 'timeout before any output: 504, exit 124, status 2' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_execution_time => '1s' });
	$t->sleeper('nap');
	my $prog = $t->script('silent.sh', <<'SH');
echo $$ > "$D/child.pid"
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(6)), 124, 'front exits 124');
	my $took = ($r->exit_time // 0) - $r->started;
	ok($took >= 0.9 && $took < 3, 'after about 1 s')
	    or diag(sprintf 'front exited after %.3f s', $took);
	my ($head) = $r->response;
	ok(defined $head, 'a complete CGI header block')
	    or diag('stdout: ' . $r->stdout);
	like($head // '', qr/^Status: 504\b/m, 'Status: 504');
	my $cpid = $t->read_pidfile('child.pid');
	my ($rec, $log) = $t->outcome(T(5));
	check_fields($rec, {
		STATUS => 2, STATUS_NAME => 'TIMEOUT', EXIT_CODE => 'killed',
		EXIT_STATUS => 'TERM', PID => $cpid,
	}, 'CGIWRAP_');
	check_fields($log, { status => 'TIMEOUT', exit => 'killed:TERM',
	    signals => 'TERM', pid => $cpid });
};

both_modes 'timeout after the header: response cut, no 504' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_execution_time => '1s' });
	$t->sleeper('nap');
	my $prog = $t->script('partial.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\npartial\n'
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(6)), 124, 'front exits 124');
	is($r->stdout, "Content-Type: text/plain\r\n\r\npartial\n",
	    'client got exactly what the child wrote, nothing added');
	my ($rec, $log) = $t->outcome(T(5));
	check_fields($rec, { STATUS => 2, STATUS_NAME => 'TIMEOUT',
	    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM',
	    HTTP_STATUS => 200 }, 'CGIWRAP_');
	check_fields($log, { status => 'TIMEOUT', http => 200 });
};

both_modes 'timeout: child ignoring TERM gets KILL after kill_grace' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_execution_time => '1s',
	    kill_grace => '1s' });
	$t->sleeper('nap');
	my $prog = $t->script('deaf.sh', <<'SH');
echo $$ > "$D/child.pid"
trap '' TERM
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(8)), 124, 'front exits 124');
	like(($r->response)[0] // '', qr/^Status: 504\b/m, 'Status: 504');
	my ($rec, $log) = $t->outcome(T(5));
	check_fields($rec, { STATUS => 2, EXIT_CODE => 'killed',
	    EXIT_STATUS => 'KILL' }, 'CGIWRAP_');
	ok(($rec->{CGIWRAP_ELAPSED_MS} // 0) >= 1900,
	    'killed after limit + grace') or diag("elapsed_ms: "
	    . ($rec->{CGIWRAP_ELAPSED_MS} // 'undef'));
	check_fields($log, { status => 'TIMEOUT', exit => 'killed:KILL',
	    signals => 'TERM,KILL' });
};

both_modes 'within the limit: untouched, status 0' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_execution_time => '2s' });
	my $prog = $t->script('quick.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
sleep 0.3
echo fine
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, "Content-Type: text/plain\r\n\r\nfine\n", 'response');
	my ($rec, $log) = $t->outcome(T(5));
	check_fields($rec, { STATUS => 0, EXIT_CODE => 'exited',
	    EXIT_STATUS => 0 }, 'CGIWRAP_');
	check_fields($log, { status => 'NORMAL', signals => '-' });
};

both_modes 'finish early (stdout closed), then the time limit: status 2' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_execution_time => '1s' });
	$t->sleeper('nap');
	my $prog = $t->script('early.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\ncomplete\n'
exec >&-
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(sub { $r->stdout_eof }, T(0.8)),
	    'server sees the end of the response at once');
	is($r->stdout, "Content-Type: text/plain\r\n\r\ncomplete\n",
	    'the whole response, no 504');
	ok(defined $r->wait_exit(T(5)), 'front exits');
	my ($rec, $log) = $t->outcome(T(5));
	check_fields($rec, { STATUS => 2, STATUS_NAME => 'TIMEOUT',
	    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM' }, 'CGIWRAP_');
	check_fields($log, { status => 'TIMEOUT' });
};

done_testing;
