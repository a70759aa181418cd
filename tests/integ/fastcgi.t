#!/usr/bin/perl
# cgiwrap -f behind a real nginx on 127.0.0.1 (issue 5, SPEC section 10),
# nginx configured with etc/nginx.conf, cgiwrap on a unix socket (this
# file) or a TCP socket (fastcgi-tcp.t runs this file with $KIND = 'tcp'):
#  - a normal request: exact body, the CGI variables of the request (with
#    PATH_INFO, without HTTP_PROXY), stderr in nginx's error log, the
#    shutdown record (status 0) and the log line;
#  - 64 MiB of random output, byte-exact (sha256);
#  - a 16 MiB POST body relayed exactly (the program prints its sha256);
#  - more of the engine per request: the program holds only its pipes and
#    the control descriptor (not the connection, the listening socket or
#    a descriptor cgiwrap inherited), a 16 MiB body it never reads, stdout
#    closed early (the response is complete at once), no header block
#    (nginx's own 502, as for any FastCGI application), a target that is not executable (403/404);
#  - the client leaves while the program is silent: status 1 reaches the
#    shutdown command, nothing of the program is left;
#  - the time limit: 504 from cgiwrap and status 2;
#  - a worker killed with SIGKILL mid-request: its request still ends
#    with status 1 and its shutdown command, the pool is whole again and
#    serves the next requests;
#  - -w 1 with ignore_user_abort: the one worker serves a second client at
#    once while the first program still runs; that one still ends with
#    status 1 and writes its marker;
#  - 400 requests at concurrency 16 with -w 4 (ab): all succeed, each has
#    its log line, no process left, the workers' mappings and descriptors
#    do not grow.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA;
use Time::HiRes qw(time);
use Server qw(T curl_get wait_for wait_for_data slurp proc_cmdline parse_env
    write_file);
use Nginx qw(:all);

our $KIND //= 'unix';
my $name = $KIND eq 'unix' ? 'fastcgi.t' : "fastcgi-$KIND.t";

my $CGIWRAP = cgiwrap_behind_nginx(tools => [qw(curl ab)]);
my $T0 = time;

sub failures { scalar grep { !$_ } Test::More->builder->summary }

sub sha256_file {
	my ($path) = @_;
	return Digest::SHA->new(256)->addfile($path, 'b')->hexdigest;
}

sub random_file {
	my ($path, $bytes) = @_;
	open(my $in, '<:raw', '/dev/urandom') or die "urandom: $!";
	open(my $out, '>:raw', $path) or die "$path: $!";
	while ($bytes > 0) {
		my $n = $bytes > 1 << 20 ? 1 << 20 : $bytes;
		read($in, my $buf, $n) == $n or die "urandom: short read";
		print $out $buf;
		$bytes -= $n;
	}
	close $out or die "$path: $!";
}

my ($fx, $cw, $ng);

sub dump_logs {
	my ($what, @more) = @_;
	my $nglog = $ng ? $ng->error_log : '';
	$nglog = substr($nglog, -6000) if length $nglog > 6000;
	diag("---- $what failed [$KIND]\n---- cgiwrap stderr:\n"
	    . ($cw ? $cw->out : '') . "---- cgiwrap log:\n"
	    . substr(slurp($fx->{log}), -3000)
	    . "---- nginx error log (end):\n$nglog"
	    . join('', map { "---- $_->[0]:\n" . slurp($_->[1]) } @more));
}

sub check_gone {
	my ($what) = @_;
	ok(no_scripts_left($fx, T(10)), "$KIND: $what: no process of the "
	    . 'program is left') or diag("left:\n" . show_pids(script_pids($fx)));
}

# ---------------------------------------------------------------------------
$fx = fcgi_fixture(tag => "fastcgi-$KIND", conf => <<'EOF');
max_execution_time = 60s
script "*/timeout" {
    max_execution_time = 1s
}
EOF
my $t = $fx->{dir};
note("files in $t");
# A descriptor without close-on-exec in the starter (a careless init
# script, spawn-fcgi from a shell): cgiwrap inherits it, its programs
# must not (R-PROC-2: only their pipes and the control descriptor).
my $stray;
{
	local $^F = 1000;	# no close-on-exec for this one
	open($stray, '>>', "$t/var/stray") or die "$t/var/stray: $!";
}
$cw = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
    socket => $KIND, dir => "$t/var", workers => 4) };
close $stray;
ok($cw, "$KIND: cgiwrap -f -w 4 answers on its socket") or diag($@);
$ng = $cw && eval { nginx_start(dir => "$t/nginx", conf => sub {
	my ($port) = @_;
	return nginx_snippet(LISTEN => "127.0.0.1:$port", ROOT => $fx->{prog},
	    SOCKET => $cw->socket);
}) };
ok($ng, "$KIND: nginx started with etc/nginx.conf") or diag($@);
unless ($cw && $ng) {
	done_testing;
	exit;
}
my @workers = $cw->wait_workers(4, T(10));
is(scalar @workers, 4, "$KIND: 4 workers") or diag(show_pids($cw->workers));
note("nginx on port " . $ng->port . ", cgiwrap on " . $cw->socket);

# --- A normal request ----------------------------------------------------------
{
	note(sprintf('%.1f s: A normal request', time - $T0));
	my $f0 = failures();
	my $r = curl_get($ng->url('/cgi-bin/hello?id=hello'), max_time => T(20));
	is($r->{code}, 200, "$KIND: hello: 200") or diag("curl: $r->{err}");
	is($r->{body}, "hello from cgiwrap\n", "$KIND: hello: exact body");
	my $rec = wait_record($fx, 'hello', T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '0', "$KIND: hello: shutdown record with "
	    . 'CGIWRAP_STATUS=0');
	is($rec->{CGIWRAP_STATUS_NAME}, 'NORMAL', "$KIND: hello: NORMAL");
	is($rec->{CGIWRAP_EXIT_CODE} . ':' . ($rec->{CGIWRAP_EXIT_STATUS} // ''),
	    'exited:0', "$KIND: hello: exited:0");
	is($rec->{CGIWRAP_TARGET}, "$fx->{prog}/hello",
	    "$KIND: hello: CGIWRAP_TARGET");
	is($rec->{CGIWRAP_HTTP_STATUS}, '200', "$KIND: hello: HTTP status 200");
	is($rec->{CGIWRAP_BYTES_OUT}, length("hello from cgiwrap\n"),
	    "$KIND: hello: CGIWRAP_BYTES_OUT is the body");
	is($rec->{SCRIPT_NAME}, '/cgi-bin/hello',
	    "$KIND: hello: the record has the request's variables");
	ok(wait_for(sub { slurp($fx->{log}) =~
	    m{ target=\Q$fx->{prog}\E/hello status=NORMAL exit=exited:0 }m }, T(10)),
	    "$KIND: hello: log line status=NORMAL");

	# The program's stderr reaches nginx's error log (R-IO-1), every time.
	my @ids = map { "err-$_" } 1 .. 30;
	my $served = grep { curl_get($ng->url("/cgi-bin/errline?id=$_"),
	    max_time => T(20))->{code} eq '200' } @ids;
	is($served, 30, "$KIND: errline: 30 requests served");
	my @missing;
	wait_for(sub {
		my $log = $ng->error_log;
		@missing = grep { $log !~ /FastCGI sent in stderr: "errline-stderr id=\Q$_\E"/ }
		    @ids;
		return !@missing;
	}, T(5));
	is("@missing", '', "$KIND: errline: the stderr line of each of the 30 "
	    . "requests is in nginx's error log");

	$r = curl_get($ng->url('/cgi-bin/env/more/path?id=env&x=1'),
	    max_time => T(20), args => ['-H', 'Proxy: http://evil.example:3128/']);
	is($r->{code}, 200, "$KIND: env: 200");
	my $e = parse_env($r->{body});
	is($e->{SCRIPT_FILENAME}, "$fx->{prog}/env", "$KIND: env: SCRIPT_FILENAME");
	is($e->{SCRIPT_NAME}, '/cgi-bin/env', "$KIND: env: SCRIPT_NAME");
	is($e->{PATH_INFO}, '/more/path', "$KIND: env: PATH_INFO");
	is($e->{QUERY_STRING}, 'id=env&x=1', "$KIND: env: QUERY_STRING");
	is($e->{REQUEST_METHOD}, 'GET', "$KIND: env: REQUEST_METHOD");
	is($e->{GATEWAY_INTERFACE}, 'CGI/1.1', "$KIND: env: GATEWAY_INTERFACE");
	ok(!exists $e->{HTTP_PROXY}, "$KIND: env: no HTTP_PROXY (httpoxy)")
	    or diag("HTTP_PROXY=$e->{HTTP_PROXY}");
	is_deeply([grep { /^CGIWRAP_(?!CONTROL_FD\z)/ } sort keys %$e], [],
	    "$KIND: env: no CGIWRAP_ status variable reaches the program");
	dump_logs('normal request') if failures() > $f0;
}

# --- 64 MiB of random output ---------------------------------------------------
{
	note(sprintf('%.1f s: 64 MiB of random output', time - $T0));
	my $f0 = failures();
	my $size = 64 << 20;
	random_file("$fx->{data}/big.bin", $size);
	my $want = sha256_file("$fx->{data}/big.bin");
	my $t1 = time;
	my $r = curl_get($ng->url('/cgi-bin/big?id=big'), max_time => T(60),
	    out => "$fx->{data}/big.out");
	my $took = time - $t1;
	is($r->{code}, 200, "$KIND: big: 200") or diag("curl: $r->{err}");
	is(-s "$fx->{data}/big.out", $size, "$KIND: big: 64 MiB arrived");
	is(sha256_file("$fx->{data}/big.out"), $want,
	    "$KIND: big: byte-exact (sha256)");
	note(sprintf("$KIND: 64 MiB in %.2f s", $took));
	my $rec = wait_record($fx, 'big', T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '0', "$KIND: big: status 0");
	is($rec->{CGIWRAP_BYTES_OUT}, $size, "$KIND: big: CGIWRAP_BYTES_OUT");
	unlink "$fx->{data}/big.bin", "$fx->{data}/big.out";
	dump_logs('64 MiB output') if failures() > $f0;
}

# --- A 16 MiB POST body --------------------------------------------------------
{
	note(sprintf('%.1f s: A 16 MiB POST body', time - $T0));
	my $f0 = failures();
	my $size = 16 << 20;
	random_file("$fx->{data}/post.bin", $size);
	my $want = sha256_file("$fx->{data}/post.bin");
	my $r = curl_get($ng->url('/cgi-bin/sum?id=post'), max_time => T(60),
	    args => ['--data-binary', "\@$fx->{data}/post.bin",
	    '-H', 'Content-Type: application/octet-stream']);
	is($r->{code}, 200, "$KIND: post: 200") or diag("curl: $r->{err}");
	is($r->{body}, "$want\nCONTENT_LENGTH=$size\n",
	    "$KIND: post: the program read the exact 16 MiB body (sha256)");
	my $rec = wait_record($fx, 'post', T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '0', "$KIND: post: status 0");
	is($rec->{CGIWRAP_BYTES_IN}, $size, "$KIND: post: CGIWRAP_BYTES_IN");
	unlink "$fx->{data}/post.bin";
	dump_logs('16 MiB body') if failures() > $f0;
}

# --- More of the engine, per request -----------------------------------------
{
	note(sprintf('%.1f s: More of the engine, per request', time - $T0));
	my $f0 = failures();
	# R-PROC-2: no descriptor of the server (connection, listening socket).
	my $r = curl_get($ng->url('/cgi-bin/fds?id=fds'), max_time => T(20));
	is($r->{code}, 200, "$KIND: fds: 200");
	my @socks = grep { / socket:/ } split /\n/, $r->{body};
	is("@socks", '', "$KIND: fds: the program holds no socket (neither "
	    . "nginx's connection nor the listening socket)")
	    or diag($r->{body});
	my %fd = $r->{body} =~ /^(\d+) (.*)$/mg;
	is(join(' ', sort { $a <=> $b } keys %fd), '0 1 2 3', "$KIND: fds: "
	    . 'the program holds 0, 1, 2 and the control descriptor, nothing '
	    . 'else (not what cgiwrap inherited)') or diag($r->{body});
	is(join(' ', map { $fd{$_} =~ /^pipe:/ ? 'pipe' : $fd{$_} // 'none' }
	    0 .. 2), 'pipe pipe pipe', "$KIND: fds: stdin, stdout and stderr "
	    . 'are pipes');
	note("$KIND: fds of the program: " . join(', ', map { "$_ $fd{$_}" }
	    sort { $a <=> $b } keys %fd));

	# R-IO-4: a 16 MiB body the program never reads.
	random_file("$fx->{data}/unread.bin", 16 << 20);
	$r = curl_get($ng->url('/cgi-bin/hello?id=unread'), max_time => T(60),
	    args => ['--data-binary', "\@$fx->{data}/unread.bin"]);
	is("$r->{code} $r->{body}", "200 hello from cgiwrap\n",
	    "$KIND: unread body: the response comes, nothing deadlocks");
	unlink "$fx->{data}/unread.bin";

	# R-POL-4: the program closes stdout and works on: the response is
	# complete at once, the request ends NORMAL later.
	$r = curl_get($ng->url('/cgi-bin/early?id=early'), max_time => T(15));
	is("$r->{code} $r->{body}", "200 early early\n", "$KIND: early: the "
	    . 'client has the whole response while the program works on');
	ok(wait_for(sub { -e "$fx->{run}/early.pid" }, T(10)) &&
	    !-e "$fx->{run}/early.done",
	    "$KIND: early: ... and the program is still running");
	write_file("$fx->{run}/early.release", 0644, '');
	my $rec = wait_record($fx, 'early', T(20)) // {};
	is($rec->{CGIWRAP_STATUS}, '0', "$KIND: early: then status 0");
	ok(-e "$fx->{run}/early.done", "$KIND: early: it ran to its end");

	# R-IO-5: no header block: nginx judges it, as it judges any
	# FastCGI application's (fastcgi-broken.t compares with a direct run).
	$r = curl_get($ng->url('/cgi-bin/nohdr?id=nohdr'), max_time => T(20));
	is($r->{code}, 502, "$KIND: no header: 502");
	like($r->{body}, qr{<center>nginx}, "$KIND: no header: "
	    . "nginx's own 502 page");
	ok(wait_for(sub { slurp($fx->{log}) =~
	    m{ target=\Q$fx->{prog}\E/nohdr .* error=}m }, T(10)),
	    "$KIND: no header: the log line says why");

	# R-TGT-3: a program that is not executable is refused.
	$r = curl_get($ng->url('/cgi-bin/noexec?id=noexec'), max_time => T(20));
	like($r->{code}, qr/^40[34]\z/, "$KIND: not executable: 403 or 404");
	unlike($r->{body}, qr/ran/, "$KIND: not executable: it did not run");
	dump_logs('engine per request') if failures() > $f0;
}

# --- The client leaves while the program is silent -----------------------------
{
	note(sprintf('%.1f s: The client leaves while the program is silent', time - $T0));
	my $f0 = failures();
	my $s = http_open($ng->port, '/cgi-bin/silent?id=leave');
	ok($s, "$KIND: leave: connected to nginx");
	ok(wait_for_data("$fx->{run}/leave.pid", T(20)),
	    "$KIND: leave: the program started");
	my $pid = slurp("$fx->{run}/leave.pid") =~ /(\d+)/ ? $1 : 0;
	close $s if $s;
	my $t1 = time;
	my $rec = wait_record($fx, 'leave', T(15)) // {};
	ok(%$rec, "$KIND: leave: shutdown command ran");
	note(sprintf("$KIND: leave: record %.2f s after the client left",
	    time - $t1));
	is($rec->{CGIWRAP_STATUS}, '1', "$KIND: leave: CGIWRAP_STATUS=1");
	is($rec->{CGIWRAP_STATUS_NAME}, 'ABORTED', "$KIND: leave: ABORTED");
	is($rec->{CGIWRAP_EXIT_CODE}, 'killed', "$KIND: leave: program killed");
	ok($pid && !kill(0, $pid), "$KIND: leave: the program ($pid) is gone");
	ok(!-e "$fx->{run}/leave.done", "$KIND: leave: it did not run on");
	check_gone('leave');
	dump_logs('client leaves') if failures() > $f0;
}

# --- The time limit ------------------------------------------------------------
{
	note(sprintf('%.1f s: The time limit', time - $T0));
	my $f0 = failures();
	my $r = curl_get($ng->url('/cgi-bin/timeout?id=timeout'), max_time => T(30));
	is($r->{code}, 504, "$KIND: timeout: 504");
	is($r->{body}, "504 Gateway Timeout\n",
	    "$KIND: timeout: cgiwrap's 504 (not nginx's)");
	my $rec = wait_record($fx, 'timeout', T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '2', "$KIND: timeout: CGIWRAP_STATUS=2");
	is($rec->{CGIWRAP_STATUS_NAME}, 'TIMEOUT', "$KIND: timeout: TIMEOUT");
	cmp_ok($rec->{CGIWRAP_ELAPSED_MS} // 0, '>=', 1000,
	    "$KIND: timeout: after the 1 s limit");
	check_gone('timeout');
	dump_logs('timeout') if failures() > $f0;
}

# --- A worker killed with SIGKILL mid-request ----------------------------------
{
	note(sprintf('%.1f s: A worker killed with SIGKILL mid-request', time - $T0));
	my $f0 = failures();
	my $s = http_open($ng->port, '/cgi-bin/silent?id=killw');
	ok(wait_for_data("$fx->{run}/killw.pid", T(20)),
	    "$KIND: kill worker: the program started");
	my $prog = slurp("$fx->{run}/killw.pid") =~ /(\d+)/ ? $1 : 0;
	# program -> supervisor -> worker
	my $sup = (proc_stat($prog))[3] // 0;
	my $worker = (proc_stat($sup))[3] // 0;
	my %pool = map { $_ => 1 } $cw->workers;
	ok($pool{$worker}, "$KIND: kill worker: found the worker ($worker) "
	    . "serving the request") or diag("program $prog, supervisor $sup, "
	    . "workers:\n" . show_pids(keys %pool));
	kill 'KILL', $worker if $pool{$worker};
	my $reply = $s ? http_read($s, 20) : '';
	like($reply, qr{\AHTTP/1\.1 502 }, "$KIND: kill worker: nginx answers "
	    . '502 for the killed request');
	my $rec = wait_record($fx, 'killw', T(15)) // {};
	is($rec->{CGIWRAP_STATUS}, '1', "$KIND: kill worker: the killed "
	    . "request's shutdown command ran with CGIWRAP_STATUS=1");
	ok(!-e "$fx->{run}/killw.done", "$KIND: kill worker: its program was "
	    . 'stopped');
	check_gone('kill worker');
	my @now = $cw->wait_workers(4, T(10));
	ok(@now == 4 && !grep({ $_ == $worker } @now),
	    "$KIND: kill worker: the pool has 4 workers again, a new one "
	    . 'in place of the killed one') or diag(show_pids($cw->workers));
	like($cw->out, qr/worker $worker ended .*replaced/,
	    "$KIND: kill worker: the master says so on stderr");
	my $ok = 0;
	for my $i (1 .. 8) {
		my $r = curl_get($ng->url("/cgi-bin/hello?id=after-kill-$i"),
		    max_time => T(20));
		$ok++ if $r->{code} eq '200' && $r->{body} eq "hello from cgiwrap\n";
	}
	is($ok, 8, "$KIND: kill worker: the next 8 requests are served");
	dump_logs('worker killed') if failures() > $f0;
}

# --- 400 requests at concurrency 16 with -w 4 ----------------------------------
{
	note(sprintf('%.1f s: 400 requests at concurrency 16 with -w 4', time - $T0));
	my $f0 = failures();
	my $before = () = slurp($fx->{log}) =~ m{ target=\Q$fx->{prog}\E/hello }mg;
	# What each request could leave in a worker: mappings, descriptors.
	my $res = sub {
		my ($maps, $fds) = (0, 0);
		for my $w ($cw->workers) {
			$maps += () = slurp("/proc/$w/maps") =~ /\n/g;
			$fds += () = glob("/proc/$w/fd/*");
		}
		return ($maps, $fds);
	};
	my @res0 = $res->();
	my $url = $ng->url('/cgi-bin/hello?id=load');
	my $t1 = time;
	my $ab = `ab -q -n 400 -c 16 -s 60 '$url' 2>&1`;
	my $took = time - $t1;
	my ($complete) = $ab =~ /^Complete requests:\s+(\d+)/m;
	my ($failed) = $ab =~ /^Failed requests:\s+(\d+)/m;
	my ($non2xx) = $ab =~ /^Non-2xx responses:\s+(\d+)/m;
	my ($rps) = $ab =~ /^Requests per second:\s+([\d.]+)/m;
	is($complete, 400, "$KIND: load: ab completed 400 requests")
	    or diag($ab);
	is($failed, 0, "$KIND: load: no failed request");
	is($non2xx // 0, 0, "$KIND: load: every response is 2xx");
	note(sprintf("$KIND: load: 400 requests in %.2f s (%s req/s)", $took,
	    $rps // '?'));
	my $lines = 0;
	ok(wait_for(sub {
		$lines = () = slurp($fx->{log}) =~
		    m{ target=\Q$fx->{prog}\E/hello status=NORMAL }mg;
		return $lines - $before >= 400;
	}, T(30)), "$KIND: load: 400 log lines with status=NORMAL")
	    or diag("got " . ($lines - $before));
	check_gone('load');
	is(scalar(my @w = $cw->workers), 4, "$KIND: load: still 4 workers")
	    or diag(show_pids($cw->workers));
	# 100 requests per worker: a few mappings more (heap) at most, not
	# one per request; the same descriptors.
	my @res1 = $res->();
	cmp_ok($res1[0] - $res0[0], '<', 4 * 20, "$KIND: load: the workers' "
	    . 'memory mappings did not grow with the requests') or diag(
	    "mappings of the 4 workers: $res0[0] before, $res1[0] after");
	is($res1[1], $res0[1], "$KIND: load: the workers hold as many "
	    . 'descriptors as before');
	dump_logs('load') if failures() > $f0;
}

# --- -w 1 and ignore_user_abort ------------------------------------------------
{
	note(sprintf('%.1f s: -w 1 and ignore_user_abort', time - $T0));
	my $f0 = failures();
	my $conf = "$t/ignore.conf";
	write_file($conf, 0644, slurp($fx->{conf})
	    . "ignore_user_abort = true\n");
	my $cw1 = eval { cgiwrap_start(bin => $CGIWRAP, conf => $conf,
	    socket => $KIND, dir => "$t/var", workers => 1, tag => 'w1') };
	my $ng1 = $cw1 && eval { nginx_start(dir => "$t/nginx-w1", conf => sub {
		my ($port) = @_;
		return nginx_snippet(LISTEN => "127.0.0.1:$port",
		    ROOT => $fx->{prog}, SOCKET => $cw1->socket);
	}) };
	ok($cw1 && $ng1, "$KIND: ignore: cgiwrap -w 1 and its nginx started")
	    or diag($@);
	if ($cw1 && $ng1) {
		my $s = http_open($ng1->port, '/cgi-bin/silent?id=ignore');
		ok(wait_for_data("$fx->{run}/ignore.pid", T(20)),
		    "$KIND: ignore: the first program started");
		my $pid = slurp("$fx->{run}/ignore.pid") =~ /(\d+)/ ? $1 : 0;
		close $s if $s;
		my $r = curl_get($ng1->url('/cgi-bin/hello?id=second'),
		    max_time => T(15));
		is($r->{code}, 200, "$KIND: ignore: the one worker serves a "
		    . 'second client') or diag("curl: $r->{err}");
		is($r->{body}, "hello from cgiwrap\n", "$KIND: ignore: its body");
		ok($pid && kill(0, $pid) && !-e "$fx->{run}/ignore.done",
		    "$KIND: ignore: ... while the first program still runs");
		my $rec2 = wait_record($fx, 'second', T(10)) // {};
		is($rec2->{CGIWRAP_STATUS}, '0', "$KIND: ignore: second request "
		    . 'status 0');
		ok(!wait_record($fx, 'ignore', 0), "$KIND: ignore: the first "
		    . 'has no record yet');
		# Let the first program finish.
		write_file("$fx->{run}/ignore.release", 0644, '');
		ok(wait_for(sub { -e "$fx->{run}/ignore.done" }, T(20)),
		    "$KIND: ignore: the first program ran to its end (marker)");
		my $rec = wait_record($fx, 'ignore', T(15)) // {};
		is($rec->{CGIWRAP_STATUS}, '1', "$KIND: ignore: the first ends "
		    . 'with CGIWRAP_STATUS=1');
		is($rec->{CGIWRAP_EXIT_CODE} . ':' .
		    ($rec->{CGIWRAP_EXIT_STATUS} // ''), 'exited:0',
		    "$KIND: ignore: ... and exited:0 (never signalled)");
		check_gone('ignore');
	}
	dump_logs('ignore_user_abort with -w 1',
	    $cw1 ? ['cgiwrap -w 1 stderr', $cw1->out_path] : ())
	    if failures() > $f0;
	ok($ng1->stop, "$KIND: ignore: nginx stopped") or diag($ng1->stop_problem)
	    if $ng1;
	ok($cw1->stop, "$KIND: ignore: cgiwrap -w 1 stopped cleanly")
	    or diag($cw1->stop_problem) if $cw1;
}

# --- Stop ----------------------------------------------------------------------
{
	note(sprintf('%.1f s: Stop', time - $T0));
	my $f0 = failures();
	ok($ng->stop, "$KIND: nginx stopped") or diag($ng->stop_problem);
	ok($cw->stop, "$KIND: cgiwrap stopped by SIGTERM, nothing left")
	    or diag($cw->stop_problem);
	check_gone('stop');
	unlike($cw->out, qr/AddressSanitizer|runtime error/,
	    "$KIND: no sanitizer report on cgiwrap's stderr");
	dump_logs('stop') if failures() > $f0;
}

note(sprintf("$name took %.1f s", time - $T0));
done_testing;
