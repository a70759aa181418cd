#!/usr/bin/perl
# The client watch (issue 3 point 0; SPEC R-STAT-4).  Apache does not
# notice a client that leaves while the script is silent; cgiwrap watches
# the client's TCP connection itself (sock_diag) every client_watch.
#
# Under Apache prefork + mod_cgi and event + mod_cgid, cgiwrap in Action
# handler mode (etc/apache-action.conf):
#   - silent.cgi sends its header and a line, then sleeps 2.5 s without a
#     word; the client leaves (curl --max-time 1).  The script must get
#     SIGTERM within 1 s of the client leaving (its trap writes the time;
#     the bound is taken from curl's start + 1 s, an upper bound of the
#     delay), the shutdown record says status 1, and nothing is left.
#   - silent-nowatch.cgi, the same script with client_watch = 0 in its
#     section: not stopped; it ends on its own more than 1 s after the
#     client left, with status 0.
#   - a client that half-closes (shutdown SHUT_WR) after its request, and
#     a script silent for 2.5 s: with client_fin = ignore in the script's
#     section the whole answer comes, status 0, as from Apache alone;
#     with the default client_fin = abort it is stopped within 1 s of the
#     FIN, status 1 (ABORTED).
#   - over HTTP/2 (mod_http2, h2c; event MPM, as mod_http2 does not
#     serve HTTP/2 under prefork), the client resets the stream of a
#     script silent for 30 s and keeps the connection open: Apache tells
#     nobody, and the script still runs 2 s later; once the client closes
#     the connection it is stopped within 1 s, status 1 (ABORTED).
#   - SERVER_PORT comes from the Host header (UseCanonicalName Off): a
#     request to Apache's first port naming its second port in Host, from
#     a source port that also has a connection open to that second port.
#     Closing that other connection must not abort the request: the
#     watch never picks a socket by SERVER_PORT (here it finds two
#     sockets of the client's address and port, and stays off).
# Run directly (no server), as www-data, lighttpd-style handler mode:
#   - REMOTE_PORT names no socket at all: the watch turns itself off, and
#     a script silent for 1 s (four watch periods) completes normally;
#   - REMOTE_ADDR is not an address (as behind a unix socket): the same;
#   - a real TCP connection made by the test (SERVER_ADDR, REMOTE_ADDR,
#     REMOTE_PORT name it): closing the client side stops the silent
#     script within 1 s, status 1 (the watch works without any server).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(abs_path);
use IO::Socket::INET;
use Time::HiRes qw(time);
use Server qw(:all write_file parse_env run_cgi);
use Nginx qw(http_open http_read);
use H2 qw(:all);
use Harness qw(T);

my $CGIWRAP = cgiwrap_behind_servers(servers => ['apache']);
my $TOP = abs_path("$FindBin::Bin/../..");

my $SILENCE = 2.5;	# seconds silent.cgi sleeps after its header

my ($t, $conf, $log) = cgiwrap_tree('watch',
    dirs => [qw(legacy wrapbin bin rec var state conf)], www => ['state'],
    root => 'legacy', conf => <<'EOF');
script "*/silent-nowatch.cgi" {
    client_watch = 0
}
# This client half-closes and waits for its answer.
script "*/fin-ignore.cgi" { client_fin = ignore }
EOF
my $WRAP = wrapbin($CGIWRAP, $t);
symlink('/bin/sleep', "$t/bin/snooze") or die "symlink: $!";
# SECONDS of silence after the header; the state files say how it ended.
sub silent_script {
	my ($seconds) = @_;
	return <<"EOF";
#!/bin/sh
id=\$QUERY_STRING
trap 'date +%s.%N > "$t/state/term.\$id"; exit 143' TERM
printf 'Content-Type: text/plain\\r\\n\\r\\nstarted\\n'
$t/bin/snooze $seconds &
wait
date +%s.%N > "$t/state/done.\$id"
EOF
}
write_file("$t/legacy/silent.cgi", 0755, silent_script($SILENCE));
write_file("$t/legacy/silent-nowatch.cgi", 0755, silent_script($SILENCE));
write_file("$t/legacy/quiet.cgi", 0755, silent_script(1) . "echo finished\n");
# Silent from its start, which it notes: reset then, the stream meets no
# write of Apache's (a reset that meets one, Apache does pass on).
write_file("$t/legacy/h2.cgi", 0755, <<"EOF");
#!/bin/sh
id=\$QUERY_STRING
trap 'date +%s.%N > "$t/state/term.\$id"; exit 143' TERM
date +%s.%N > "$t/state/start.\$id"
$t/bin/snooze 30 &
wait
date +%s.%N > "$t/state/done.\$id"
EOF
for my $name (qw(fin-ignore fin-abort hostport)) {
	write_file("$t/legacy/$name.cgi", 0755,
	    silent_script($SILENCE) . "echo finished\n");
}
write_file("$t/conf/apache-action.conf", 0644,
    instantiate("$TOP/etc/apache-action.conf", CGIWRAP_DIR => "$t/wrapbin",
    CONF => $conf, ROOT => "$t/legacy"));

sub failures { scalar grep { !$_ } Test::More->builder->summary }

sub state_time {
	my ($what, $id) = @_;
	my $s = slurp("$t/state/$what.$id");
	return $s =~ /^(\d+(?:\.\d+)?)/ ? $1 : undef;
}

sub record {
	my ($id, $timeout) = @_;
	my $found;
	wait_for(sub {
		opendir(my $dh, "$t/rec") or return 0;
		for my $r (grep { !/^\./ } readdir $dh) {
			my $e = parse_env(slurp("$t/rec/$r"));
			next unless ($e->{QUERY_STRING} // '') eq $id;
			$found = $e;
			return 1;
		}
		return 0;
	}, $timeout);
	return $found;
}

sub script_pids {
	return grep { (proc_exe($_) // '') ne $WRAP }
	    pids_matching(qr{\Q$t\E/(?:legacy/\S+\.cgi|bin/snooze)});
}

sub show_pids {
	return join("\n", map { "  $_: " . (proc_cmdline($_) // '(gone)') } @_);
}

sub apache_case {
	my ($mpm, $cgi) = @_;
	my $name = "apache $mpm+$cgi";
	my $srv = eval {
		apache_start(mpm => $mpm, cgi => $cgi, dir => "$t/apache-$mpm",
		    extra_ports => 1, conf => "LoadModule http2_module "
		    . "$Server::APACHE_MOD/mod_http2.so\n"
		    . "Protocols h2c http/1.1\nInclude \"$t/conf/apache-action.conf\"\n");
	};
	unless (ok($srv, "$name: Apache started")) {
		diag($@);
		return;
	}
	note("$name on port " . $srv->port . "; files in $t");

	# Watched: stopped within 1 s of the client leaving.
	my $f0 = failures();
	my $id = "watched-$mpm";
	my $start = time;
	my $r = curl_get($srv->url("/cgi-bin/silent.cgi?$id"), max_time => 1);
	my $left = $start + 1;	# curl closes no earlier than this
	is($r->{rc}, 28, "$name: silent.cgi: the client left after 1 s")
	    or diag("curl exit $r->{rc} code $r->{code}: $r->{err}");
	is($r->{body}, "started\n", "$name: silent.cgi: header and line came");
	ok(wait_for(sub { -s "$t/state/term.$id" || -s "$t/state/done.$id" }, T(5)),
	    "$name: silent.cgi ended");
	my $term = state_time('term', $id);
	ok(defined $term, "$name: silent.cgi was stopped (SIGTERM)");
	ok(!-e "$t/state/done.$id", "$name: silent.cgi did not run to its end");
	cmp_ok(($term // 1e10) - $left, '<', T(1),
	    "$name: stopped within 1 s of the client leaving")
	    and note(sprintf("$name: stopped %.3f s after the client left",
	    $term - $left));
	my $rec = record($id, T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '1', "$name: silent.cgi: CGIWRAP_STATUS=1");
	is($rec->{CGIWRAP_STATUS_NAME}, 'ABORTED',
	    "$name: silent.cgi: CGIWRAP_STATUS_NAME=ABORTED");
	ok(wait_for(sub { !script_pids() }, T(5)),
	    "$name: silent.cgi: nothing of it is left")
	    or diag("left:\n" . show_pids(script_pids()));
	diag("error log:\n" . $srv->error_log . "cgiwrap log:\n" . slurp($log))
	    if failures() > $f0;

	# client_watch = 0: not stopped, ends on its own, status 0.
	$f0 = failures();
	$id = "unwatched-$mpm";
	$start = time;
	$r = curl_get($srv->url("/cgi-bin/silent-nowatch.cgi?$id"), max_time => 1);
	$left = $start + 1;
	is($r->{rc}, 28, "$name: silent-nowatch.cgi: the client left after 1 s")
	    or diag("curl exit $r->{rc} code $r->{code}: $r->{err}");
	ok(wait_for(sub { -s "$t/state/term.$id"
	    || -s "$t/state/done.$id" }, T($SILENCE + 5)),
	    "$name: silent-nowatch.cgi ended");
	ok(!-e "$t/state/term.$id", "$name: silent-nowatch.cgi was not stopped");
	my $done = state_time('done', $id);
	ok(defined $done, "$name: silent-nowatch.cgi ran to its end");
	cmp_ok(($done // 0) - $left, '>', 1.0, "$name: silent-nowatch.cgi "
	    . 'outlived the client by more than 1 s');
	$rec = record($id, T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '0',
	    "$name: silent-nowatch.cgi: CGIWRAP_STATUS=0");
	is($rec->{CGIWRAP_EXIT_STATUS}, '0',
	    "$name: silent-nowatch.cgi: CGIWRAP_EXIT_STATUS=0");
	diag("error log:\n" . $srv->error_log . "cgiwrap log:\n" . slurp($log))
	    if failures() > $f0;

	half_closed($srv, $name, $mpm, 'ignore');
	half_closed($srv, $name, $mpm, 'abort');
	host_port($srv, $name, $mpm);
	# mod_http2 works only with a threaded MPM (prefork: AH10034).
	h2_reset($srv, $name, $mpm) if $mpm eq 'event';

	ok($srv->stop, "$name: stopped cleanly") or diag($srv->stop_problem);
}

# A client that sends its request, then shutdown(SHUT_WR), and waits for
# the answer; fin-FIN.cgi has client_fin = FIN (abort: the default).
sub half_closed {
	my ($srv, $name, $mpm, $fin) = @_;
	my $f0 = failures();
	my $id = "fin-$fin-$mpm";
	my $what = "$name: half-closed client, client_fin = $fin";
	my $s = http_open($srv->port, "/cgi-bin/fin-$fin.cgi?$id",
	    half_close => 1);
	ok($s, "$what: connected") or return;
	my $sent = time;
	my $answer = http_read($s, T($SILENCE + 10));
	close $s;
	my $rec = record($id, T(10)) // {};
	if ($fin eq 'ignore') {
		like($answer,
		    qr/^HTTP\/1\.\d 200 .*\r\n\r\nstarted\nfinished\n\z/s,
		    "$what: the whole answer came");
		ok(!-e "$t/state/term.$id",
		    "$what: the script was not stopped");
		is($rec->{CGIWRAP_STATUS_NAME}, 'NORMAL',
		    "$what: CGIWRAP_STATUS_NAME=NORMAL");
	} else {
		unlike($answer, qr/finished/, "$what: the answer was cut");
		ok(wait_for(sub { -s "$t/state/term.$id" }, T(5)),
		    "$what: the script was stopped (SIGTERM)");
		cmp_ok((state_time('term', $id) // 1e10) - $sent, '<', T(1),
		    "$what: within 1 s of the FIN");
		ok(!-e "$t/state/done.$id", "$what: the script did not end");
		is($rec->{CGIWRAP_STATUS}, '1', "$what: CGIWRAP_STATUS=1");
		is($rec->{CGIWRAP_STATUS_NAME}, 'ABORTED',
		    "$what: CGIWRAP_STATUS_NAME=ABORTED");
	}
	diag("answer:\n$answer\nerror log:\n" . $srv->error_log
	    . "cgiwrap log:\n" . slurp($log)) if failures() > $f0;
}

# An HTTP/2 stream of h2.cgi, reset once the script runs; the TCP
# connection closed 2 s later.
sub h2_reset {
	my ($srv, $name, $mpm) = @_;
	my $f0 = failures();
	my $id = "h2-$mpm";
	my $what = "$name: HTTP/2 stream reset";
	my $s = h2_open($srv->port, "/cgi-bin/h2.cgi?$id");
	ok(wait_for(sub { -s "$t/state/start.$id" }, T(10)),
	    "$what: the script runs");
	syswrite($s, h2_frame(H2_RST_STREAM, 0, 1, pack('N', H2_CANCEL)));
	# Not scaled: a longer look would reach Apache's own end of an idle
	# HTTP/2 connection (KeepAliveTimeout), which does stop the script.
	ok(!wait_for(sub { -e "$t/state/term.$id" }, 2),
	    "$what: 2 s later the script still runs");
	close $s;
	my $closed = time;
	ok(wait_for(sub { -s "$t/state/term.$id" }, T(5)),
	    "$what: stopped once the connection closed");
	cmp_ok((state_time('term', $id) // 1e10) - $closed, '<', T(1),
	    "$what: within 1 s of the close");
	my $rec = record($id, T(10)) // {};
	is($rec->{CGIWRAP_STATUS_NAME}, 'ABORTED',
	    "$what: CGIWRAP_STATUS_NAME=ABORTED");
	diag("error log:\n" . $srv->error_log . "cgiwrap log:\n" . slurp($log))
	    if failures() > $f0;
}

# Port A gets a request whose Host header names port B, from source port
# P; another connection from P to port B is open while the script runs,
# then closes.  The request must run to its end.
sub host_port {
	my ($srv, $name, $mpm) = @_;
	my $f0 = failures();
	my ($pa, $pb) = $srv->ports;
	my $id = "hostport-$mpm";
	my $what = "$name: Host names another port";
	my $from = free_port();
	# Apache accepts a connection once it has data (TCP_DEFER_ACCEPT).
	my $other = http_open($pb, '/', from => $from, unfinished => 1);
	my $s = http_open($pa, "/cgi-bin/hostport.cgi?$id",
	    host => "127.0.0.1:$pb", from => $from);
	ok($other && $s, "$what: two connections from port $from")
	    or return;
	ok(wait_for(sub { pids_matching(qr{\Q$t\E/bin/snooze \Q$SILENCE\E\b}) }, T(10)),
	    "$what: the script started");
	close $other;
	my $answer = http_read($s, T($SILENCE + 10));
	close $s;
	like($answer, qr/\r\n\r\nstarted\nfinished\n\z/,
	    "$what: the whole answer came");
	my $rec = record($id, T(10)) // {};
	ok(!-e "$t/state/term.$id", "$what: the script was not stopped");
	is($rec->{SERVER_PORT}, $pb,
	    "$what: SERVER_PORT=$pb, from the Host header");
	is($rec->{CGIWRAP_STATUS_NAME}, 'NORMAL',
	    "$what: CGIWRAP_STATUS_NAME=NORMAL");
	diag("answer:\n$answer\nerror log:\n" . $srv->error_log
	    . "cgiwrap log:\n" . slurp($log)) if failures() > $f0;
}

# cgiwrap run directly: quiet.cgi (1 s of silence, then "finished").
sub direct {
	my ($name, $id, %env) = @_;
	return run_cgi(argv => [$WRAP, "$t/legacy/quiet.cgi"], user => www_user(),
	    timeout => T(15), env => { GATEWAY_INTERFACE => 'CGI/1.1',
	    SERVER_PROTOCOL => 'HTTP/1.1', REQUEST_METHOD => 'GET',
	    SERVER_NAME => 'localhost', SERVER_PORT => '80',
	    SCRIPT_NAME => '/cgi-bin/quiet.cgi',
	    SCRIPT_FILENAME => "$t/legacy/quiet.cgi", QUERY_STRING => $id,
	    CGIWRAP_CONFIG => $conf, %env });
}

sub completes {
	my ($name, $id, %env) = @_;
	my $f0 = failures();
	my $r = direct($name, $id, %env);
	is($r->{exit}, 0, "direct, $name: exit status 0");
	like($r->{stdout}, qr/\r?\n\r?\nstarted\nfinished\n\z/,
	    "direct, $name: the whole response");
	ok(-e "$t/state/done.$id", "direct, $name: the script ran to its end");
	my $rec = record($id, T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '0', "direct, $name: CGIWRAP_STATUS=0");
	diag("stdout:\n$r->{stdout}\nstderr:\n$r->{stderr}") if failures() > $f0;
}

my $t0 = time;
apache_case('prefork', 'mod_cgi');
apache_case('event', 'mod_cgid');

my $nobody = free_port();
completes("REMOTE_PORT $nobody names no socket", 'noport',
    SERVER_ADDR => '127.0.0.1', REMOTE_ADDR => '127.0.0.1',
    REMOTE_PORT => $nobody);
completes('REMOTE_ADDR is not an address', 'noaddr',
    SERVER_ADDR => '127.0.0.1', REMOTE_ADDR => 'unix:', REMOTE_PORT => '');

# A connection of our own, watched; the client side closes after 0.3 s.
{
	my $f0 = failures();
	my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Listen => 1, Proto => 'tcp') or die "listen: $!";
	my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $l->sockport, Proto => 'tcp') or die "connect: $!";
	my $s = $l->accept or die "accept: $!";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		close $c;
		my $r = direct('own connection', 'ownconn',
		    SERVER_ADDR => '127.0.0.1', REMOTE_ADDR => '127.0.0.1',
		    REMOTE_PORT => $s->peerport);
		POSIX::_exit($r->{exit} < 0 ? 255 : $r->{exit});
	}
	close $s;	# the "server" side stays open in the forked child
	# Close the client side once the script runs.
	my $started = wait_for(sub { pids_matching(qr{\Q$t\E/bin/snooze 1\b}) }, T(10));
	ok($started, 'direct, own connection: the script started');
	my $closed = time;
	close $c;
	ok(wait_for(sub { -s "$t/state/term.ownconn"
	    || -s "$t/state/done.ownconn" }, T(5)), 'direct, own connection: ended');
	my $term = state_time('term', 'ownconn');
	ok(defined $term, 'direct, own connection: stopped when the client '
	    . 'side closed');
	cmp_ok(($term // 1e10) - $closed, '<', T(1),
	    'direct, own connection: within 1 s');
	my $rec = record('ownconn', T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '1', 'direct, own connection: '
	    . 'CGIWRAP_STATUS=1');
	wait_for_pid_gone($pid, T(10));
	diag("cgiwrap log:\n" . slurp($log)) if failures() > $f0;
}

ok(wait_for(sub { !pids_matching(qr/\Q$t\E/) }, T(5)),
    'no process of the test is left')
    or diag("left:\n" . show_pids(pids_matching(qr/\Q$t\E/)));
kill 'KILL', pids_matching(qr/\Q$t\E/);
note(sprintf('watch.t took %.1f s', time - $t0));
done_testing;
