#!/usr/bin/perl
# Integration: max_execution_time and hard_time_limit.  SPEC R-STAT-3,
# R-POL-3, R-POL-1 (escalation), section 9 (exit 124).

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
	ok($took >= 0.9 && $took < T(3), 'after about 1 s')
	    or diag(sprintf 'front exited after %.3f s', $took);
	my ($head) = $r->response;
	ok(defined $head, 'a complete CGI header block')
	    or diag('stdout: ' . $r->stdout);
	like($head // '', qr/^Status: 504\b/m, 'Status: 504');
	my $cpid = $t->read_pidfile('child.pid');
	my ($rec, $log) = $t->ended({
		STATUS => 2, STATUS_NAME => 'TIMEOUT', EXIT_CODE => 'killed',
		EXIT_STATUS => 'TERM', PID => $cpid,
	},
	    { status => 'TIMEOUT', exit => 'killed:TERM',
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
	my ($rec, $log) = $t->ended({ STATUS => 2, STATUS_NAME => 'TIMEOUT',
	    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM',
	    HTTP_STATUS => 200 },
	    { status => 'TIMEOUT', http => 200 });
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
	my ($rec, $log) = $t->ended({ STATUS => 2, EXIT_CODE => 'killed',
	    EXIT_STATUS => 'KILL' });
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
	my ($rec, $log) = $t->ended({ STATUS => 0, EXIT_CODE => 'exited',
	    EXIT_STATUS => 0 },
	    { status => 'NORMAL', signals => '-' });
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
	my ($rec, $log) = $t->ended({ STATUS => 2, STATUS_NAME => 'TIMEOUT',
	    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM' },
	    { status => 'TIMEOUT' });
};

# Without hard_time_limit this script runs for ever: every "time_limit 2"
# restarts the clock, and max_time_limit (2 s) allows it.
both_modes 'hard_time_limit stops a script renewing its time limit' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_execution_time => '2s',
	    max_time_limit => '2s', hard_time_limit => '3s' });
	$t->sleeper('nap');
	my $prog = $t->script('renew.sh', <<'SH');
echo $$ > "$D/child.pid"
while :; do
	echo 'time_limit 2' >&$CGIWRAP_CONTROL_FD
	echo renewed >> "$D/renewed"
	"$D/nap" 1
done
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(10)), 124, 'front exits 124');
	my $took = ($r->exit_time // 0) - $r->started;
	ok($took >= 2.9 && $took < T(4.5),
	    'after about 3 s: past max_execution_time, at hard_time_limit')
	    or diag(sprintf 'front exited after %.3f s', $took);
	cmp_ok(scalar(my @l = $t->file_lines('renewed')), '>=', 3,
	    'the script renewed its time limit every second');
	like(($r->response)[0] // '', qr/^Status: 504\b/m, 'Status: 504');
	my $cpid = $t->read_pidfile('child.pid');
	my ($rec, $log) = $t->ended({
		STATUS => 2, STATUS_NAME => 'TIMEOUT', EXIT_CODE => 'killed',
		EXIT_STATUS => 'TERM', PID => $cpid, HTTP_STATUS => '',
	});
	ok(($rec->{CGIWRAP_ELAPSED_MS} // 0) >= 3000, 'elapsed_ms >= 3000')
	    or diag('elapsed_ms ' . ($rec->{CGIWRAP_ELAPSED_MS} // 'undef'));
	check_fields($log, { status => 'TIMEOUT', exit => 'killed:TERM',
	    signals => 'TERM', pid => $cpid });
};

both_modes 'hard_time_limit cuts a longer max_execution_time, KILL after kill_grace'
    => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_execution_time => '30s',
	    hard_time_limit => '1s', kill_grace => '1s' });
	$t->sleeper('nap');
	my $prog = $t->script('deaf.sh', <<'SH');
echo $$ > "$D/child.pid"
trap '' TERM
printf 'Content-Type: text/plain\r\n\r\npartial\n'
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(8)), 124, 'front exits 124');
	is($r->stdout, "Content-Type: text/plain\r\n\r\npartial\n",
	    'client got exactly what the child wrote, nothing added');
	my ($rec, $log) = $t->ended({ STATUS => 2, STATUS_NAME => 'TIMEOUT',
	    EXIT_CODE => 'killed', EXIT_STATUS => 'KILL',
	    HTTP_STATUS => 200 });
	my $ms = $rec->{CGIWRAP_ELAPSED_MS} // 0;
	ok($ms >= 1900 && $ms < T(5) * 1000,
	    'killed after the hard limit + grace, long before 30 s')
	    or diag("elapsed_ms $ms");
	check_fields($log, { status => 'TIMEOUT', exit => 'killed:KILL',
	    signals => 'TERM,KILL', http => 200 });
};

# cgiwrap run as a command, not a request: output, stderr, exit status.
sub command {
	my ($t, @args) = @_;
	my $r = $t->run(cmd => [$Harness::CGIWRAP, @args],
	    env => { GATEWAY_INTERFACE => undef, QUERY_STRING => undef });
	my $rc = $r->finish(T(5));
	return ($r->stdout, $r->stderr, $rc);
}

subtest 'hard_time_limit: -e shows it with its origin, -t checks it' => sub {
	my $t = Harness->new(conf => { hard_time_limit => '1m' },
	    extra => "script \"*/sec.cgi\" {\n    hard_time_limit = 5s\n}\n");
	my @lines = split /\n/, slurp($t->conf);
	my ($global) = grep { $lines[$_ - 1] =~ /^hard_time_limit/ } 1 .. @lines;
	my ($section) = grep { $lines[$_ - 1] =~ /^ +hard_time_limit/ } 1 .. @lines;
	my $conf = $t->conf;
	my ($out, $err, $rc) = command($t, '-t', '-c', $conf);
	is($out, "syntax ok\n", '-t: syntax ok');
	is($rc, 0, '-t: exit 0');
	($out, $err, $rc) = command($t, '-e', '/nowhere/other.cgi', '-c', $conf);
	is($rc, 0, '-e: exit 0') or diag($err);
	like($out, qr/^hard_time_limit = 1m  # \Q$conf\E:$global \(global\)$/m,
	    '-e: the global value, file and line');
	($out, $err, $rc) = command($t, '-e', '/nowhere/sec.cgi', '-c', $conf);
	like($out, qr/^hard_time_limit = 5s  # \Q$conf\E:$section \(script "\*\/sec\.cgi"\)$/m,
	    '-e: the section value, file and line');
	my $empty = $t->write_file('empty.conf', '', 0644);
	($out) = command($t, '-e', '/nowhere/other.cgi', '-c', $empty);
	like($out, qr/^hard_time_limit = 0  # default$/m, '-e: default 0');
};

subtest 'hard_time_limit: a bad value names file, line and option' => sub {
	my $t = Harness->new(conf_text => '');
	my $text = $t->base_conf;
	my $line = 1 + ($text =~ tr/\n//);
	$t->write_file('cgiwrap.conf', "${text}hard_time_limit = soon\n", 0644);
	my $conf = $t->conf;
	my $want = "cgiwrap: $conf:$line: hard_time_limit: bad duration 'soon'\n";
	my ($out, $err, $rc) = command($t, '-t', '-c', $conf);
	is($err, $want, '-t: one line naming file, line and option');
	isnt($rc, 0, '-t: fails');
	is($out, '', '-t: no "syntax ok"');
	my $prog = $t->script('prog.sh', "echo ran > \"\$D/ran\"\n");
	my $r = $t->run(mode => 'pipes', argv => [$prog]);
	is($r->finish(T(5)), 125, 'a request: front exits 125');
	like(($r->response)[0] // '', qr/^Status: 500\b/m, 'Status: 500');
	is($r->stderr, $want, 'the same line on stderr');
	ok(!-e $t->path('ran'), 'the program did not run');
};

done_testing;
