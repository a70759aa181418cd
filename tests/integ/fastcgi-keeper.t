#!/usr/bin/perl
# The FastCGI keeper (src/keeper.c) behind a real nginx: a worker's one
# supervisor that runs one request after another, and hands its place to
# a new keeper when its job is not over.  The fixture runs no shutdown
# command for a normal request (shutdown => 0, "abort" only for ABORTED),
# so that a keeper can be reused at all.  cgiwrap -f -w 1:
#  1. reuse: 20 requests in a row, all answered, under one keeper (the
#     programs' parent), one log line each (NORMAL, its pid, procs=1);
#     1b. the log renamed under that keeper: the next line goes to a new
#     file under the log's name;
#  2. a job outliving its response (early): the next request is served at
#     once by another keeper; released, early ends NORMAL, its keeper
#     ends with it, the new keeper serves on;
#  3. a process left behind (orphans = leave): the next request gets a
#     new keeper, the log line counts only the program, the orphan lives
#     on through the next request;
#  4. timers do not leak: a timed-out job (504, TIMEOUT), then on the same
#     keeper a job running past that time limit and kill_grace ends
#     NORMAL;
#  5. a shutdown command for ABORTED only: normal requests ran none; a
#     client that leaves gets status 1 and the command runs with it;
#  6. a keeper killed while idle, then in a request, then after the
#     response of a job running on: the program is gone, the client is
#     not left hanging (500), the same worker serves on;
#  7. a worker killed while its keeper is idle: the keeper ends, a new
#     worker serves;
#  8. a reload: the next job runs under the new configuration;
# and with -w 2: 9. SIGTERM to the master with idle keepers: master,
# workers and keepers all end.
use strict;
use warnings;
use Test::More;
use JSON::PP;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Time::HiRes qw(time sleep);
use Server qw(T wait_for wait_for_data slurp write_file free_port);
use Nginx qw(:all);

my $CGIWRAP = cgiwrap_behind_nginx();
my $T0 = time;

sub failures { scalar grep { !$_ } Test::More->builder->summary }

my $fx = fcgi_fixture(tag => 'fastcgi-keeper', shutdown => 0);
my $t = $fx->{dir};

# The configuration: reload scenario's limit for */limit is LIMIT seconds.
sub conf {
	my ($limit) = @_;
	return <<"EOF";
max_execution_time = 60s
env_set = {"CONF_LIMIT=$limit"}
status_path = "/cgiwrap-status"
script "*/timeout" {
    max_execution_time = 1s
}
script "*/limit" {
    max_execution_time = ${limit}s
}
shutdown "abort" {
    command = {"$t/rec.sh"}
    when = {"ABORTED"}
}
script "*/shut" {
    shutdown "each" {
        command = {"$t/shut.sh"}
    }
}
EOF
}
write_conf($fx, conf(30));

# Its parent (the keeper) and itself.
write_file("$fx->{prog}/ppid", 0755, <<'EOS');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nppid=%s pid=%s limit=%s\n' "$PPID" "$$" "$CONF_LIMIT"
EOS
# Leaves a sleep behind (its pid in T/run/ID.orphan), answers and exits.
write_file("$fx->{prog}/orphan", 0755, <<"EOS");
#!/bin/sh
id=\${QUERY_STRING#id=}
"$t/bin/sleep" 60 </dev/null >/dev/null 2>&1 &
echo \$! > "$t/run/\$id.orphan.tmp" && mv "$t/run/\$id.orphan.tmp" "$t/run/\$id.orphan"
printf 'Content-Type: text/plain\\r\\n\\r\\norphan %s\\n' "\$id"
EOS
# ppid under another name, with a shutdown command after every request:
# shut.sh records like rec.sh, first waiting (30 s at most) for
# T/run/ID.release when the id starts with "hold".
write_file("$fx->{prog}/shut", 0755, slurp("$fx->{prog}/ppid"));
write_file("$t/shut.sh", 0755, <<"EOS");
#!/bin/sh
id=\${QUERY_STRING#id=}
case "\$id" in hold*)
	i=0
	while [ ! -e "$t/run/\$id.release" ] && [ \$i -lt 600 ]; do
		"$t/bin/sleep" 0.05
		i=\$((i + 1))
	done
esac
exec "$t/rec.sh"
EOS
# silent under another name, for the reload's script section.
write_file("$fx->{prog}/limit", 0755, slurp("$fx->{prog}/silent"));

my $cw = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
    socket => 'unix', dir => $fx->{var}, workers => 1) };
ok($cw, 'cgiwrap -f -w 1 answers') or diag($@);
# A second cgiwrap (-w 2, for scenario 9) behind the same nginx, on its
# own port; started there.
my $sock2 = "unix:$fx->{var}/cgiwrap.w2.sock";
my $port2 = free_port();
my $ng = $cw && eval { nginx_start(dir => "$t/nginx", conf => sub {
	my ($port) = @_;
	return nginx_snippet(LISTEN => "127.0.0.1:$port", ROOT => $fx->{prog},
	    SOCKET => $cw->socket)
	    . nginx_snippet(LISTEN => "127.0.0.1:$port2", ROOT => $fx->{prog},
	    SOCKET => $sock2);
}) };
ok($ng, 'nginx started with etc/nginx.conf') or diag($@);
unless ($cw && $ng) {
	done_testing;
	exit;
}
my ($worker) = $cw->wait_workers(1, T(10));
ok($worker, 'one worker') or diag(show_pids($cw->workers));

sub dump_logs {
	my ($what) = @_;
	my $nglog = $ng->error_log;
	$nglog = substr($nglog, -3000) if length $nglog > 3000;
	diag("---- $what failed\n---- cgiwrap stderr:\n" . $cw->out
	    . "---- cgiwrap log (end):\n" . substr(slurp($fx->{log}), -4000)
	    . "---- nginx error log (end):\n$nglog");
}

# GET PATH through nginx: (HTTP status, body); the status is '' when
# nothing came.
sub get {
	my ($path) = @_;
	my $s = http_open($ng->port, $path) or return ('', '');
	my $r = http_read($s, T(20));
	close $s;
	my ($code) = $r =~ m{\AHTTP/1\.\d (\d{3})};
	my (undef, $body) = split /\r\n\r\n/, $r, 2;
	return ($code // '', $body // '');
}

# A ppid request: (status, the keeper's pid, the program's pid; both 0
# unless the body is exactly ppid's).
sub ppid_raw {
	my ($id) = @_;
	my ($code, $body) = get("/cgi-bin/ppid?id=$id");
	my ($k, $p) = $body =~ /\Appid=(\d+) pid=(\d+) limit=\d+\n\z/;
	return ($code, $k // 0, $p // 0);
}

# ppid_raw, then its log line waited for: the keeper has left the job
# (the line is its last act in it), so the next request may have it.
sub ppid {
	my ($id) = @_;
	my @r = ppid_raw($id);
	log_of($id);
	return @r;
}

# The log line of request ID (its uri ends in id=ID) as {key => value},
# waited for; {} if none came.
sub log_of {
	my ($id, $timeout) = @_;
	my %kv;
	wait_for(sub {
		my ($line) = grep { m{ uri=\S*[?&]id=\Q$id\E\s} }
		    split /\n/, slurp($fx->{log});
		return 0 unless defined $line;
		%kv = $line =~ /(\w+)=("[^"]*"|\S+)/g;
		return 1;
	}, $timeout // T(10));
	return \%kv;
}

sub pid_in { (slurp($_[0]) // '') =~ /(\d+)/ ? $1 : 0 }

# The parent of PID, 0 when it is gone.
sub parent_of { my @st = proc_stat($_[0]); return @st ? $st[3] : 0 }

# Is PID alive (not a zombie)?
sub alive { my @st = proc_stat($_[0]); return @st && $st[2] ne 'Z' }

sub gone { my ($pid, $t) = @_; return wait_for(sub { !alive($pid) }, $t) }

# kill(SIG, PID) for one process: a pid that a failed step left at 0
# (or anything below 2) would signal the test's own process group.
sub signal {
	my ($sig, $pid) = @_;
	return $pid && $pid > 1 ? kill($sig, $pid) : 0;
}

# --- 1. Reuse -------------------------------------------------------------------
my $keeper;
{
	note(sprintf('%.1f s: 1. reuse', time - $T0));
	my $f0 = failures();
	# Back to back, as a client would send them.
	my (@codes, %keepers, @pids);
	for my $i (1 .. 20) {
		my ($code, $k, $p) = ppid_raw("r$i");
		push @codes, $code;
		$keepers{$k}++;
		push @pids, $p;
		$keeper = $k;
	}
	is_deeply(\@codes, [(200) x 20], 'reuse: 20 requests, all 200');
	is(scalar(grep { $_ } @pids), 20, 'reuse: each with its exact body');
	is(scalar(keys %keepers), 1, 'reuse: one keeper (the programs\' '
	    . 'parent) for all 20') or diag('keeper pid => requests: '
	    . join(', ', map { "$_ => $keepers{$_}" } sort keys %keepers));
	is(parent_of($keeper), $worker, 'reuse: the keeper is the worker\'s '
	    . 'child');
	my @st = proc_stat($keeper);
	is($st[5] // 0, $keeper, 'reuse: the keeper leads its own session');
	my @lines = map { log_of("r$_") } 1 .. 20;
	is(scalar(grep { %$_ } @lines), 20, 'reuse: 20 log lines');
	is(scalar(grep { ($_->{status} // '') eq 'NORMAL' } @lines), 20,
	    'reuse: each NORMAL');
	is(scalar(grep { ($_->{procs} // '') eq '1' } @lines), 20,
	    'reuse: each procs=1');
	is_deeply([map { $_->{pid} // 0 } @lines], \@pids,
	    'reuse: each with its own program\'s pid');
	my %distinct = map { $_ => 1 } @pids;
	is(scalar(keys %distinct), 20, 'reuse: 20 distinct programs');
	is(record_count($fx), 0, 'reuse: no shutdown command ran (ABORTED only)');
	dump_logs('reuse') if failures() > $f0;
}

# --- 1b. The log rotated under the keeper ----------------------------------------
{
	note(sprintf('%.1f s: 1b. log rotated', time - $T0));
	my $f0 = failures();
	my $old = "$fx->{log}.1";
	ok(rename($fx->{log}, $old), 'rotate: the log renamed, as logrotate '
	    . 'does');
	my ($code, $k) = ppid_raw('rot1');
	is($code, 200, 'rotate: the next request answered');
	is($k, $keeper, 'rotate: by the keeper that wrote the lines before');
	ok(%{ log_of('rot1') }, 'rotate: its line is in a new file under the '
	    . 'log\'s name');
	my $rotated = slurp($old) // '';
	is(scalar(() = $rotated =~ /[?&]id=r\d+\s/g), 20,
	    'rotate: the renamed file keeps the 20 lines before');
	unlike($rotated, qr/id=rot1\s/, 'rotate: and gets no line after');
	dump_logs('rotate') if failures() > $f0;
}

# --- The status page, answered while the worker's keeper is kept ----------------
{
	my ($code, $body) = get('/cgiwrap-status?json');
	is($code, 200, 'status page: 200');
	my $j = eval { JSON::PP->new->decode($body) } // {};
	my ($w) = @{ $j->{workers} // [] };
	ok($w && ($w->{uri} // '') eq '/cgiwrap-status?json' &&
	    exists $w->{cpu_ms} && !defined $w->{cpu_ms},
	    'status page: its own request runs no program, so no CPU time, '
	    . 'the worker\'s idle keeper notwithstanding') or diag($body);
	ok(alive($keeper), 'status page: the keeper is still there');
}

# --- 2. A job outliving its response ---------------------------------------------
{
	note(sprintf('%.1f s: 2. early', time - $T0));
	my $f0 = failures();
	my ($code, $body) = get('/cgi-bin/early?id=e1');
	is($code, 200, 'early: 200 once its stdout is closed');
	like($body, qr/^early e1$/m, 'early: its body');
	ok(wait_for_data("$fx->{run}/e1.pid", T(10)), 'early: runs on');
	my $e = pid_in("$fx->{run}/e1.pid");
	is(parent_of($e), $keeper, 'early: under the keeper of the last request');
	my $t1 = time;
	my ($c2, $k2) = ppid('e-next');
	my $took = time - $t1;
	is($c2, 200, 'early: the next request is served while early runs');
	cmp_ok($took, '<', T(3), 'early: ... at once') or diag("$took s");
	ok(alive($e) && !-e "$fx->{run}/e1.done", 'early: ... and early still '
	    . 'runs');
	isnt($k2, $keeper, 'early: the next request has another keeper');
	ok($k2 && parent_of($k2) == $worker, 'early: ... the worker\'s child');
	write_file("$fx->{run}/e1.release", 0644, '');
	my $l = log_of('e1', T(10));
	is($l->{status}, 'NORMAL', 'early: released, its log line is NORMAL');
	is($l->{pid}, $e, 'early: ... with its pid');
	ok(-e "$fx->{run}/e1.done", 'early: it finished its work (ID.done)');
	ok(gone($keeper, T(10)), 'early: its keeper ended with it');
	my @k = map { (ppid("e-after$_"))[1] } 1 .. 3;
	is_deeply(\@k, [($k2) x 3], 'early: later requests reuse the new '
	    . 'keeper');
	$keeper = $k2;
	dump_logs('early') if failures() > $f0;
}

# --- 3. A process left behind ------------------------------------------------------
{
	note(sprintf('%.1f s: 3. orphan', time - $T0));
	my $f0 = failures();
	my ($code, $body) = get('/cgi-bin/orphan?id=o1');
	is($code, 200, 'orphan: 200');
	ok(wait_for_data("$fx->{run}/o1.orphan", T(10)), 'orphan: left a sleep');
	my $o = pid_in("$fx->{run}/o1.orphan");
	my $l = log_of('o1', T(10));
	is($l->{status}, 'NORMAL', 'orphan: NORMAL');
	is($l->{procs}, '1', 'orphan: procs=1 (the orphan not counted)');
	my ($c2, $k2) = ppid('o-next');
	is($c2, 200, 'orphan: the next request: 200');
	isnt($k2, $keeper, 'orphan: ... under a new keeper');
	my $l2 = log_of('o-next', T(10));
	is($l2->{procs}, '1', 'orphan: the next request\'s procs=1');
	ok(alive($o), 'orphan: still alive after the next request ended')
	    or diag(show_pids($o));
	my (undef, $k3) = ppid('o-after');
	is($k3, $k2, 'orphan: the new keeper is reused');
	ok(alive($o), 'orphan: still alive after one more');
	signal('KILL', $o);
	ok(gone($o, T(10)), 'orphan: killed by the test');
	$keeper = $k2;
	dump_logs('orphan') if failures() > $f0;
}

# --- 4. Timers do not leak from one job to the next ------------------------------
{
	note(sprintf('%.1f s: 4. timers', time - $T0));
	my $f0 = failures();
	my $s = http_open($ng->port, '/cgi-bin/timeout?id=t1');
	ok(wait_for_data("$fx->{run}/t1.pid", T(10)), 'timers: timeout runs');
	my $tk = parent_of(pid_in("$fx->{run}/t1.pid"));
	is($tk, $keeper, 'timers: timeout runs under the keeper');
	my $r = $s ? http_read($s, T(20)) : '';
	like($r, qr{\AHTTP/1\.\d 504 }, 'timers: timeout: 504');
	my $l = log_of('t1', T(10));
	is($l->{status}, 'TIMEOUT', 'timers: timeout: status TIMEOUT (2)');
	$s = http_open($ng->port, '/cgi-bin/silent?id=t2');
	ok(wait_for_data("$fx->{run}/t2.pid", T(10)), 'timers: silent runs');
	is(parent_of(pid_in("$fx->{run}/t2.pid")), $tk,
	    'timers: silent runs on the same keeper');
	# Past the time limit (1 s) and kill_grace (1 s) of the job before:
	# what is waited for is time itself.
	sleep 2.5;
	write_file("$fx->{run}/t2.release", 0644, '');
	$r = $s ? http_read($s, T(20)) : '';
	like($r, qr{\AHTTP/1\.\d 200 .*released t2}s,
	    'timers: silent released after 2.5 s: 200');
	$l = log_of('t2', T(10));
	is($l->{status}, 'NORMAL', 'timers: silent: NORMAL');
	is($l->{exit}, 'exited:0', 'timers: silent: exited:0');
	ok(-e "$fx->{run}/t2.done", 'timers: silent finished');
	dump_logs('timers') if failures() > $f0;
}

# --- 5. A shutdown command for aborted requests only ----------------------------
{
	note(sprintf('%.1f s: 5. abort', time - $T0));
	my $f0 = failures();
	is(record_count($fx), 0, 'abort: no shutdown command ran so far');
	my (undef, $k1) = ppid('a-before');
	is($k1, $keeper, 'abort: a normal request reuses the keeper');
	my $s = http_open($ng->port, '/cgi-bin/silent?id=a1');
	ok(wait_for_data("$fx->{run}/a1.pid", T(10)), 'abort: silent runs');
	my $p = pid_in("$fx->{run}/a1.pid");
	is(parent_of($p), $keeper, 'abort: ... under the keeper');
	close $s if $s;
	my $rec = wait_record($fx, 'a1', T(15)) // {};
	is($rec->{CGIWRAP_STATUS}, '1', 'abort: the command ran with '
	    . 'CGIWRAP_STATUS=1');
	is($rec->{CGIWRAP_STATUS_NAME}, 'ABORTED', 'abort: ... ABORTED');
	is(log_of('a1', T(10))->{status}, 'ABORTED', 'abort: log line ABORTED');
	ok(gone($p, T(10)), 'abort: the program is gone');
	ok(!-e "$fx->{run}/a1.done", 'abort: it did not finish');
	ok(keeper_idle($keeper), 'abort: the keeper, its command done, waits');
	my ($c2, $k2) = ppid('a-after');
	is($c2, 200, 'abort: the next request: 200');
	is($k2, $keeper, 'abort: ... under the same keeper, which ran the '
	    . 'command');
	is(record_count($fx), 1, 'abort: one command ran in all');
	$keeper = $k2;
	dump_logs('abort') if failures() > $f0;
}

# --- 6. The keeper killed ----------------------------------------------------------
{
	note(sprintf('%.1f s: 6. keeper killed', time - $T0));
	my $f0 = failures();
	ok(keeper_idle($keeper),
	    'killed idle: the keeper waits for its next job');
	ok(signal('KILL', $keeper), 'killed idle: SIGKILL to the keeper');
	ok(gone($keeper, T(10)), 'killed idle: the keeper is gone');
	my ($code, $k) = ppid('kill-idle');
	is($code, 200, 'killed idle: the next request: 200');
	isnt($k, $keeper, 'killed idle: ... under a new keeper');
	is_deeply([$cw->workers], [$worker], 'killed idle: the same worker');
	$keeper = $k;

	my $s = http_open($ng->port, '/cgi-bin/silent?id=k1');
	ok(wait_for_data("$fx->{run}/k1.pid", T(10)), 'killed busy: silent runs');
	my $p = pid_in("$fx->{run}/k1.pid");
	# Its keeper, whichever the step before left.
	$keeper = parent_of($p);
	is(parent_of($keeper), $worker, 'killed busy: ... under a keeper of '
	    . 'the worker');
	ok(signal('KILL', $keeper), 'killed busy: SIGKILL to the keeper');
	ok(gone($p, T(10)), 'killed busy: the program is gone');
	my $t1 = time;
	my $r = $s ? http_read($s, T(20)) : '';
	my $took = time - $t1;
	cmp_ok($took, '<', T(10), 'killed busy: the client is not left '
	    . 'hanging') or diag("$took s");
	note('killed busy: the client got: '
	    . (($r =~ /\A(.*?)\r?\n/)[0] // '(nothing)'));
	# The worker sees its supervisor's line end with no outcome.
	like($r, qr{\AHTTP/1\.\d 500 }, 'killed busy: the client gets a 500 '
	    . '(no response had started)');
	my $why = qr{FastCGI sent in stderr: "cgiwrap: \Q$fx->{prog}\E/silent: }
	    . qr{supervisor ended unexpectedly"};
	ok(wait_for(sub { $ng->error_log =~ $why }, T(10)), 'killed busy: ... '
	    . 'and the worker says why in nginx\'s error log');
	ok(!-e "$fx->{run}/k1.done", 'killed busy: the program did not finish');
	($code, $k) = ppid('kill-after');
	is($code, 200, 'killed busy: the next request: 200');
	isnt($k, $keeper, 'killed busy: ... under a new keeper');
	is_deeply([$cw->workers], [$worker], 'killed busy: the same worker');
	$keeper = $k;

	# Once the response is over nobody but the kernel watches the
	# program for its keeper (PR_SET_PDEATHSIG).
	my ($c3, $b3) = get('/cgi-bin/early?id=k2');
	is("$c3 $b3", "200 early k2\n", 'killed after the response: early '
	    . 'answered');
	ok(wait_for_data("$fx->{run}/k2.pid", T(10)), 'killed after the '
	    . 'response: early runs on');
	$p = pid_in("$fx->{run}/k2.pid");
	my $kk = parent_of($p);
	is(parent_of($kk), $worker, 'killed after the response: ... under a '
	    . 'keeper of the worker');
	ok(signal('KILL', $kk), 'killed after the response: SIGKILL to that '
	    . 'keeper');
	ok(gone($p, T(10)), 'killed after the response: the program is gone');
	ok(!-e "$fx->{run}/k2.done", 'killed after the response: it did not '
	    . 'finish');
	($code, $k) = ppid('kill-last');
	is($code, 200, 'killed after the response: the next request: 200');
	ok($k != $kk && parent_of($k) == $worker, 'killed after the response: '
	    . '... under a keeper of the same worker');
	$keeper = $k;
	dump_logs('keeper killed') if failures() > $f0;
}

# --- 7. The worker killed -------------------------------------------------------------
{
	note(sprintf('%.1f s: 7. worker killed', time - $T0));
	my $f0 = failures();
	ok(keeper_idle($keeper), 'worker killed: its keeper waits for a job');
	ok(signal('KILL', $worker), 'worker killed: SIGKILL to the worker');
	ok(gone($keeper, T(10)), 'worker killed: its idle keeper ends')
	    or signal('KILL', $keeper);	# not to be left behind
	my $new;
	ok(wait_for(sub {
		my @w = $cw->workers;
		$new = $w[0] if @w == 1 && $w[0] != $worker;
		return $new;
	}, T(10)), 'worker killed: the master starts a new worker');
	my ($code, $k) = ppid('w-after');
	is($code, 200, 'worker killed: the new worker serves');
	ok($k && $new && parent_of($k) == $new, 'worker killed: ... with a '
	    . 'keeper of its own');
	($worker, $keeper) = ($new // 0, $k);
	dump_logs('worker killed') if failures() > $f0;
}

# --- 8. A reload ----------------------------------------------------------------------
{
	note(sprintf('%.1f s: 8. reload', time - $T0));
	my $f0 = failures();
	my ($code, $k) = ppid('h-before');
	is($k, $keeper, 'reload: a request on the keeper (limit 30 s)');
	ok(keeper_idle($keeper), 'reload: the keeper waits for its next job');
	write_conf($fx, conf(1));
	signal('HUP', $cw->pid);
	# No request until then: the keeper ends because the worker, having
	# reloaded, let it go.
	ok(gone($keeper, T(10)), 'reload: the idle keeper is retired')
	    or signal('KILL', $keeper);	# not to be left behind
	# The worker builds the environment: CONF_LIMIT=1 is its reload.
	my ($seen, $n) = ('', 0);
	ok(wait_for(sub {
		$n++;
		my (undef, $body) = get("/cgi-bin/ppid?id=probe$n");
		log_of("probe$n");
		($seen) = $body =~ /limit=(\S*)/;
		return ($seen // '') eq '1';
	}, T(15)), 'reload: the worker took the new configuration')
	    or diag('CONF_LIMIT=' . ($seen // 'none'));
	my $s = http_open($ng->port, '/cgi-bin/limit?id=h1');
	my $t1 = time;
	ok(wait_for_data("$fx->{run}/h1.pid", T(10)), 'reload: limit runs');
	isnt(parent_of(pid_in("$fx->{run}/h1.pid")), $keeper,
	    'reload: ... under a new keeper');
	my $r = $s ? http_read($s, T(10)) : '';
	my $took = time - $t1;
	like($r, qr{\AHTTP/1\.\d 504 }, 'reload: limit: 504 (the new 1 s, '
	    . 'not 30 s)') or diag(sprintf('%.1f s: %s', $took, $r));
	is(log_of('h1', T(10))->{status}, 'TIMEOUT', 'reload: limit: TIMEOUT');
	is_deeply([$cw->workers], [$worker], 'reload: the same worker');
	dump_logs('reload') if failures() > $f0;
}

# --- 10. Shutdown commands run by the keeper ---------------------------------------------
{
	note(sprintf('%.1f s: 10. shutdown commands', time - $T0));
	my $f0 = failures();
	my ($code, $body) = get('/cgi-bin/shut?id=s1');
	my ($k1) = $body =~ /\Appid=(\d+) /;
	is($code, 200, 'shutdown: a request with a shutdown command: 200');
	my $rec = wait_record($fx, 's1', T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '0', 'shutdown: its command ran, status 0');
	ok($k1 && keeper_idle($k1),
	    'shutdown: the keeper, its command done, waits');
	my ($c2, $k2) = ppid('s2');
	is($c2, 200, 'shutdown: the next request: 200');
	is($k2, $k1 // -1, 'shutdown: under the same keeper, its commands done');
	# A command that takes its time: the next request does not wait.
	($code, $body) = get('/cgi-bin/shut?id=hold1');
	my ($kh) = $body =~ /\Appid=(\d+) /;
	is($code, 200, 'shutdown: a request whose command waits: 200');
	my $t1 = time;
	my ($c3, $k3) = ppid_raw('s3');
	is($c3, 200, 'shutdown: the next request: 200');
	ok(time - $t1 < T(5), 'shutdown: ... at once, not after the command');
	ok($k3 && $kh && $k3 != $kh, 'shutdown: ... under a new keeper');
	ok(!wait_record($fx, 'hold1', 0.2), 'shutdown: the command still waits');
	write_file("$fx->{run}/hold1.release", 0644, '');
	$rec = wait_record($fx, 'hold1', T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '0', 'shutdown: released, it ran to its end');
	ok(gone($kh, T(10)), 'shutdown: the old keeper ended after it');
	dump_logs('shutdown') if failures() > $f0;
}

ok($ng && $cw->stop, 'cgiwrap -w 1 stopped cleanly') or diag($cw->stop_problem);
ok(no_scripts_left($fx, T(10)), 'no process of the programs left')
    or diag(show_pids(script_pids($fx)));

# --- 9. SIGTERM to the master with idle keepers -----------------------------------------
{
	note(sprintf('%.1f s: 9. SIGTERM', time - $T0));
	my $f0 = failures();
	my $cw2 = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
	    socket => $sock2, dir => $fx->{var}, workers => 2, tag => 'w2') };
	ok($cw2, 'SIGTERM: cgiwrap -f -w 2 answers') or diag($@);
	my @w = $cw2 ? $cw2->wait_workers(2, T(10)) : ();
	is(scalar @w, 2, 'SIGTERM: 2 workers');
	# Two at once: one on each worker, each worker forks its keeper.
	my @s = map { http_open($port2, "/cgi-bin/silent?id=term$_") } 1, 2;
	ok(wait_for(sub { 2 == grep { -s "$fx->{run}/term$_.pid" } 1, 2 },
	    T(10)), 'SIGTERM: two programs run at once');
	my @k = map { parent_of(pid_in("$fx->{run}/term$_.pid")) } 1, 2;
	write_file("$fx->{run}/term$_.release", 0644, '') for 1, 2;
	like($_ ? http_read($_, T(20)) : '', qr/released term/,
	    'SIGTERM: released') for @s;
	is_deeply([sort { $a <=> $b } map { parent_of($_) } @k],
	    [sort { $a <=> $b } @w], 'SIGTERM: one keeper per worker, idle');
	ok(log_of("term$_", T(10))->{status} eq 'NORMAL',
	    "SIGTERM: term$_ ended NORMAL") for 1, 2;
	is(scalar(grep { keeper_idle($_) } @k), 2,
	    'SIGTERM: both keepers wait for a job');
	signal('TERM', $cw2->pid) if $cw2;
	ok($cw2 && $cw2->wait_exit(T(10)), 'SIGTERM: the master exits');
	my @left;
	ok(wait_for(sub { !(@left = grep { alive($_) } @w, @k) }, T(10)),
	    'SIGTERM: workers and keepers all gone') or diag(show_pids(@left));
	signal('KILL', $_) for @left;	# not to be left behind
	$cw2->stop if $cw2;
	dump_logs('SIGTERM') if failures() > $f0;
}

ok($ng->stop, 'nginx stopped') or diag($ng->stop_problem);
note(sprintf('fastcgi-keeper.t took %.1f s', time - $T0));
done_testing;
