#!/usr/bin/perl
# cgiwrap -f behind nginx, the master's signals (issue 5, R-FCGI-2), on a
# unix and on a TCP socket:
#  - SIGTERM drain: the idle workers leave, a running request still
#    finishes within kill_grace (200, status 0), no new request is taken,
#    the master exits 0 and removes its unix socket;
#  - SIGTERM with a request running past kill_grace: it is aborted after
#    the grace (status 1, its program stopped), the master exits;
#  - SIGHUP with a good new configuration: it takes effect (env_set seen
#    by the program, a new max_execution_time gives 504 and status 2);
#  - SIGHUP with a broken one: refused with a stderr line naming the
#    file, the old configuration stays in force, also for a worker that
#    replaces a dead one;
#  - SIGHUP while a worker waits for the rest of a request's body, and
#    while it waits for the server to read its response, then SIGTERM so:
#    the request is served whole (libfcgi took the interrupted read or
#    write for a broken connection), the reload comes after it, the stop
#    too.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA qw(sha256_hex);
use POSIX ();
use Time::HiRes qw(time);
use Server qw(T curl_get wait_for wait_for_data slurp parse_env write_file);
use Nginx qw(:all);

my $CGIWRAP = cgiwrap_behind_nginx();
my $T0 = time;

sub failures { scalar grep { !$_ } Test::More->builder->summary }

sub dump_logs {
	my ($what, $fx, $cw, $ng) = @_;
	my $nglog = $ng ? $ng->error_log : '';
	$nglog = substr($nglog, -4000) if length $nglog > 4000;
	diag("---- $what failed\n---- cgiwrap stderr:\n"
	    . ($cw ? $cw->out : '') . "---- cgiwrap log:\n"
	    . substr(slurp($fx->{log}), -3000)
	    . "---- nginx error log (end):\n$nglog");
}

# cgiwrap on KIND with nginx in front; returns (cgiwrap, nginx) or ().
sub start_pair {
	my ($fx, $kind, $tag, $workers) = @_;
	my $cw = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
	    socket => $kind, dir => $fx->{var}, workers => $workers,
	    tag => $tag) };
	my $err = $@;
	my $ng = $cw && eval { nginx_start(dir => "$fx->{dir}/nginx-$tag",
	    conf => sub {
		my ($port) = @_;
		return nginx_snippet(LISTEN => "127.0.0.1:$port",
		    ROOT => $fx->{prog}, SOCKET => $cw->socket);
	}) };
	$err .= $@ // '';
	ok($cw && $ng, "$tag: cgiwrap -w $workers on $kind and nginx started")
	    or diag($err);
	return $cw && $ng ? ($cw, $ng) : ();
}

sub pid_in { slurp($_[0]) =~ /(\d+)/ ? $1 : 0 }

# --- SIGTERM: a running request finishes within kill_grace -------------------
sub drain_finishes {
	my ($kind) = @_;
	my $tag = "drain-$kind";
	my $fx = fcgi_fixture(tag => $tag, kill_grace => '10s');
	my ($cw, $ng) = start_pair($fx, $kind, $tag, 2) or return;
	my $f0 = failures();
	my $s = http_open($ng->port, '/cgi-bin/silent?id=drain');
	ok(wait_for_data("$fx->{run}/drain.pid", T(20)),
	    "$tag: the program started");
	my $sock = $cw->socket;
	kill 'TERM', $cw->pid;
	my $t1 = time;
	# The idle worker leaves at once: the master has passed SIGTERM on.
	ok(wait_for(sub { scalar(my @w = $cw->workers) == 1 }, T(10)),
	    "$tag: after SIGTERM the idle worker is gone, the busy one stays");
	ok(kill(0, $cw->pid), "$tag: the master waits for the running request");
	# A request arriving now is not taken (it waits in the backlog and
	# fails when the master is gone).
	my $late = fcgi_connect($sock, T(5));
	fcgi_write($late, fcgi_begin(1) . fcgi_params(1, fcgi_pairs(
	    SCRIPT_FILENAME => "$fx->{prog}/hello", REQUEST_METHOD => 'GET',
	    QUERY_STRING => 'id=late')) . fcgi_stdin(1, '')) if $late;
	write_file("$fx->{run}/drain.release", 0644, '');
	my $reply = $s ? http_read($s, 20) : '';
	like($reply, qr{\AHTTP/1\.1 200 .*\r\n\r\nreleased drain\n\z}s,
	    "$tag: the running request finished with its full response")
	    or diag("reply: $reply");
	my $rec = wait_record($fx, 'drain', T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '0', "$tag: ... with CGIWRAP_STATUS=0");
	ok($cw->wait_exit(T(15)), "$tag: then the master exits");
	note(sprintf("$tag: master gone %.2f s after SIGTERM", time - $t1));
	is($cw->exit_status, 0, "$tag: exit status 0");
	my $r = $late ? fcgi_read($late, 10) : { stdout => 'no connection' };
	is($r->{stdout}, '', "$tag: a request sent after SIGTERM was not "
	    . 'served');
	ok(!wait_record($fx, 'late', 0), "$tag: ... and never ran");
	if ($kind eq 'unix') {
		(my $path = $sock) =~ s/^unix://;
		ok(!-e $path, "$tag: the master removed its socket file");
	}
	ok(no_scripts_left($fx, T(10)), "$tag: no process of the program left")
	    or diag(show_pids(script_pids($fx)));
	dump_logs($tag, $fx, $cw, $ng) if failures() > $f0;
	$ng->stop;
	$cw->stop;
}

# --- SIGTERM: a request running past kill_grace is aborted -------------------
sub drain_aborts {
	my ($kind) = @_;
	my $tag = "drain-abort-$kind";
	my $fx = fcgi_fixture(tag => $tag, kill_grace => '1s');
	my ($cw, $ng) = start_pair($fx, $kind, $tag, 2) or return;
	my $f0 = failures();
	my $s = http_open($ng->port, '/cgi-bin/silent?id=past');
	ok(wait_for_data("$fx->{run}/past.pid", T(20)),
	    "$tag: the program started");
	my $pid = pid_in("$fx->{run}/past.pid");
	kill 'TERM', $cw->pid;
	my $t1 = time;
	my $rec = wait_record($fx, 'past', T(20)) // {};
	my $after = time - $t1;
	is($rec->{CGIWRAP_STATUS}, '1', "$tag: the request running past "
	    . 'kill_grace ends with CGIWRAP_STATUS=1');
	is($rec->{CGIWRAP_EXIT_CODE}, 'killed', "$tag: its program was killed");
	cmp_ok($after, '>=', 1, "$tag: not before kill_grace (1 s) was over")
	    or diag(sprintf('record %.2f s after SIGTERM', $after));
	note(sprintf("$tag: record %.2f s after SIGTERM", $after));
	ok(!-e "$fx->{run}/past.done", "$tag: the program did not finish");
	ok($pid && !kill(0, $pid), "$tag: the program is gone");
	ok($cw->wait_exit(T(15)), "$tag: the master exits");
	is($cw->exit_status, 0, "$tag: exit status 0");
	my $reply = $s ? http_read($s, 10) : '';
	note("$tag: the client got: " . (($reply =~ /\A(.*?)\r?\n/)[0] // '(nothing)'));
	ok(no_scripts_left($fx, T(10)), "$tag: no process of the program left")
	    or diag(show_pids(script_pids($fx)));
	dump_logs($tag, $fx, $cw, $ng) if failures() > $f0;
	$ng->stop;
	$cw->stop;
}

# --- SIGHUP: reload -----------------------------------------------------------
sub reload {
	my ($kind) = @_;
	my $tag = "reload-$kind";
	my $fx = fcgi_fixture(tag => $tag, conf => <<'EOF');
max_execution_time = 60s
env_set = {"CONF_GEN=1"}
EOF
	my ($cw, $ng) = start_pair($fx, $kind, $tag, 1) or return;
	my $f0 = failures();
	my $gen = sub {
		my $r = curl_get($ng->url('/cgi-bin/env?id=probe'), max_time => T(20));
		return $r->{code} eq '200' ? parse_env($r->{body})->{CONF_GEN} // ''
		    : "HTTP $r->{code}";
	};
	is($gen->(), '1', "$tag: the program sees the first configuration");
	my @w = $cw->workers;

	# A good new configuration: a time limit for */timeout.
	write_conf($fx, <<'EOF');
max_execution_time = 60s
env_set = {"CONF_GEN=2"}
script "*/timeout" {
    max_execution_time = 1s
}
EOF
	kill 'HUP', $cw->pid;
	my $g = '';
	ok(wait_for(sub { ($g = $gen->()) eq '2' }, T(15)),
	    "$tag: after SIGHUP the new configuration is in force")
	    or diag("CONF_GEN=$g");
	my $r = curl_get($ng->url('/cgi-bin/timeout?id=to1'), max_time => T(30));
	is($r->{code}, 504, "$tag: the new max_execution_time = 1s: 504");
	my $rec = wait_record($fx, 'to1', T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '2', "$tag: ... and CGIWRAP_STATUS=2");
	is_deeply([$cw->workers], \@w, "$tag: the same worker (no restart)");

	# A broken one: refused, the old one stays.
	write_conf($fx, <<'EOF');
max_execution_time = forever
env_set = {"CONF_GEN=3"}
EOF
	my $conf = $fx->{conf};
	kill 'HUP', $cw->pid;
	ok(wait_for(sub { $cw->out =~ /not reloaded/ }, T(15)),
	    "$tag: a broken configuration is refused with a stderr line")
	    or diag($cw->out);
	like($cw->out, qr/^cgiwrap: \Q$conf\E: not reloaded, the old/m,
	    "$tag: ... naming the file");
	like($cw->out, qr/^cgiwrap: \Q$conf\E:\d+: .*max_execution_time/m,
	    "$tag: ... and the error (file, line, option)");
	ok(kill(0, $cw->pid), "$tag: the master still runs");
	is($gen->(), '2', "$tag: the program still gets the old configuration");
	$r = curl_get($ng->url('/cgi-bin/timeout?id=to2'), max_time => T(30));
	is($r->{code}, 504, "$tag: the old time limit still applies (504)");
	$rec = wait_record($fx, 'to2', T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '2', "$tag: ... CGIWRAP_STATUS=2");
	# A worker that replaces a dead one gets the good configuration too.
	kill 'KILL', @w;
	ok(wait_for(sub {
		my @n = $cw->workers;
		return @n == 1 && $n[0] != $w[0];
	}, T(10)), "$tag: a killed worker is replaced");
	is($gen->(), '2', "$tag: the new worker has the last good configuration");
	dump_logs($tag, $fx, $cw, $ng) if failures() > $f0;
	ok($ng->stop, "$tag: nginx stopped") or diag($ng->stop_problem);
	ok($cw->stop, "$tag: cgiwrap stopped cleanly") or diag($cw->stop_problem);
	ok(no_scripts_left($fx, T(10)), "$tag: no process of the program left");
}

# --- SIGHUP and SIGTERM while a request's I/O waits ---------------------------
sub fcgi_params_of {
	my ($fx, $prog, $id, @more) = @_;
	return fcgi_begin(1) . fcgi_params(1, fcgi_pairs(fcgi_cgi_params($fx,
	    $prog, $id, REQUEST_URI => "/cgi-bin/$prog?id=$id", @more)));
}

# Until the master has passed SIG on to worker W: it waits there, or
# (as before) it broke off the call W was in.
sub passed_on {
	my ($w, $sig, $call) = @_;
	return wait_for(sub { signal_waits($w, $sig) ||
	    !blocked_in($w, $call) }, T(10));
}

# A request to big (id ID) whose response worker W must wait to write,
# the master sent signal SIG meanwhile; what fcgi_read returned, with the
# response's body as body.
sub held_response {
	my ($fx, $cw, $w, $id, $sig, $tag) = @_;
	my $s = fcgi_connect($cw->socket, T(5));
	ok($s && fcgi_write($s, fcgi_params_of($fx, 'big', $id) .
	    fcgi_stdin(1, '')),
	    "$tag: a request for a 4 MiB response sent, not read ($id)");
	ok(wait_for(sub { blocked_in($w, 'write') }, T(10)),
	    "$tag: the worker waits to write the response ($id)");
	kill $sig, $cw->pid;
	ok(passed_on($w, POSIX->can("SIG$sig")->(), 'write'),
	    "$tag: SIG$sig passed on to the worker");
	my $r = fcgi_read($s, T(20));
	close $s if $s;
	($r->{body}) = $r->{stdout} =~ /\r\n\r\n(.*)\z/s;
	return $r;
}

sub signals_wait {
	my ($kind) = @_;
	my $tag = "held-$kind";
	my $fx = fcgi_fixture(tag => $tag, conf => qq(env_set = {"CONF_GEN=1"}));
	my $size = 4 << 20;
	write_file("$fx->{data}/big.bin", 0644, 'x' x $size);
	my $cw = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
	    socket => $kind, dir => $fx->{var}, workers => 1, tag => $tag) };
	ok($cw, "$tag: cgiwrap -w 1 on $kind started") or return diag($@);
	my $f0 = failures();
	my ($w) = $cw->workers;
	write_conf($fx, qq(env_set = {"CONF_GEN=2"}));

	# The body: half of it, SIGHUP, then the rest.
	my $body = join('', map { chr(($_ * 7) % 251) } 1 .. 200000);
	my $s = fcgi_connect($cw->socket, T(5));
	ok($s && fcgi_write($s, fcgi_params_of($fx, 'sum', 'body',
	    REQUEST_METHOD => 'POST', CONTENT_LENGTH => length $body) .
	    fcgi_record(FCGI_STDIN, 1, substr($body, 0, 60000))),
	    "$tag: a request and half its body sent");
	ok(wait_for(sub { blocked_in($w, 'read') }, T(10)),
	    "$tag: the worker waits for the rest of the body");
	kill 'HUP', $cw->pid;
	ok(passed_on($w, POSIX::SIGHUP, 'read'),
	    "$tag: SIGHUP passed on to the worker");
	fcgi_write($s, fcgi_stdin(1, substr($body, 60000)));
	my $r = fcgi_read($s, T(20));
	close $s;
	ok($r->{end}, "$tag: the request ends with END_REQUEST")
	    or diag(fcgi_describe($r));
	like($r->{stdout}, qr/^\Q${\ sha256_hex($body)}\E\n/m,
	    "$tag: the program read the whole body");

	# The response: the worker writes it to a server that does not read.
	$r = held_response($fx, $cw, $w, 'big', 'HUP', $tag);
	ok($r->{end}, "$tag: the response ends with END_REQUEST")
	    or diag(fcgi_describe($r));
	is(length($r->{body} // ''), $size, "$tag: all of its 4 MiB came");
	ok(wait_for(sub { slurp($fx->{log}) =~
	    /uri=\S*id=big\b.* status=NORMAL /m }, T(10)),
	    "$tag: its log line says NORMAL");

	# The reload was taken before the next request.
	$r = fcgi_request($cw->socket, params => [fcgi_cgi_params($fx, 'env',
	    'gen')], timeout => T(20));
	is(parse_env($r->{stdout} =~ s/\A.*?\r\n\r\n//sr)->{CONF_GEN}, '2',
	    "$tag: then the new configuration is in force");

	# SIGTERM so: the response goes out whole, then the master ends.
	$r = held_response($fx, $cw, $w, 'stop', 'TERM', $tag);
	ok($r->{end} && length($r->{body} // '') == $size,
	    "$tag: the response in hand at SIGTERM came whole")
	    or diag(fcgi_describe($r));
	ok($cw->wait_exit(T(10)) && $cw->exit_status == 0,
	    "$tag: then the master exits 0");
	dump_logs($tag, $fx, $cw) if failures() > $f0;
	$cw->stop;
}

for my $kind (qw(unix tcp)) {
	drain_finishes($kind);
	drain_aborts($kind);
	reload($kind);
	signals_wait($kind);
}
note(sprintf('fastcgi-control.t took %.1f s', time - $T0));
done_testing;
