#!/usr/bin/perl
# A browser's stop over HTTP/2 is an RST_STREAM on a connection that
# stays open: the client watch sees nothing (the TCP connection stays
# ESTABLISHED).  A minimal HTTP/2 client (cleartext with prior knowledge:
# preface, SETTINGS, HEADERS with literal HPACK fields: tests/lib/H2.pm)
# asks for a silent program, waits until it runs, resets the stream
# (CANCEL) and keeps the TCP connection open:
#  - nginx (etc/nginx.conf, listen ... http2) in front of `cgiwrap -f`
#    closes its FastCGI connection for the reset stream: the program is
#    signalled within 2 s, the shutdown command gets status 1 (ABORTED),
#    and the connection still answers a PING afterwards;
#  - Apache (mod_http2, h2c; mod_proxy_fcgi in front of the same
#    `cgiwrap -f`) passes nothing on: 2 s after the reset the program
#    still runs; once the client closes the TCP connection, Apache closes
#    its socket and the client watch ends the request (ABORTED).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Time::HiRes qw(time);
use H2 qw(:all);
use Server qw(apache_start wait_for_data slurp);
use Nginx qw(:all);
use Harness qw(T);

my $CGIWRAP = cgiwrap_behind_nginx();
my ($fx, $cw);

sub failures { scalar grep { !$_ } Test::More->builder->summary }

# Ask SERVER for the silent program as ID; once it runs (and has not
# answered), reset the stream.  Returns the socket, the program's pid and
# the time of the reset.
sub started_then_reset {
	my ($srv, $id) = @_;
	my $s = h2_open($srv->port, "/cgi-bin/silent?id=$id");
	ok(wait_for_data("$fx->{run}/$id.pid", T(20)),
	    "$id: the program started");
	my $pid = slurp("$fx->{run}/$id.pid") =~ /(\d+)/ ? $1 : 0;
	my $early = frame_until($s, 0.2,
	    sub { $_[0][2] == 1 || $_[0][0] == H2_GOAWAY });
	ok(!$early, "$id: no answer on the stream yet: the program is silent");
	syswrite($s, h2_frame(H2_RST_STREAM, 0, 1, pack('N', H2_CANCEL)));
	return ($s, $pid, time);
}

sub aborted {
	my ($id, $rec, $pid) = @_;
	is($rec->{CGIWRAP_STATUS}, '1', "$id: CGIWRAP_STATUS=1");
	is($rec->{CGIWRAP_STATUS_NAME}, 'ABORTED', "$id: ABORTED");
	is($rec->{CGIWRAP_EXIT_CODE}, 'killed',
	    "$id: the program was signalled");
	ok($pid && !kill(0, $pid), "$id: the program ($pid) is gone");
	ok(!-e "$fx->{run}/$id.done", "$id: it did not run on");
}

sub show_logs {
	my ($srv) = @_;
	diag("cgiwrap stderr:\n" . $cw->out . "cgiwrap log:\n"
	    . slurp($fx->{log}) . "server error log:\n" . $srv->error_log);
}

$SIG{PIPE} = 'IGNORE';
$fx = fcgi_fixture(tag => 'watch-h2');
my $t = $fx->{dir};
note("files in $t");
# On TCP: Apache's user cannot connect to root's unix socket.
$cw = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
    dir => $fx->{var}, workers => 2, socket => 'tcp') };
ok($cw, 'cgiwrap -f -w 2 answers on its socket') or diag($@);
unless ($cw) {
	done_testing;
	exit;
}

# nginx: the reset closes the FastCGI connection.
my $ng = eval { nginx_start(dir => "$t/nginx", conf => sub {
	my ($port) = @_;
	return nginx_snippet(LISTEN => "127.0.0.1:$port http2",
	    ROOT => $fx->{prog}, SOCKET => $cw->socket);
}) };
ok($ng, 'nginx started with etc/nginx.conf, listen ... http2') or diag($@);
if ($ng) {
	my $f0 = failures();
	my ($s, $pid, $reset) = started_then_reset($ng, 'nginx');
	my $rec = wait_record($fx, 'nginx', T(10)) // {};
	cmp_ok(time - $reset, '<', T(2),
	    'nginx: ended within 2 s of the reset');
	aborted('nginx', $rec, $pid);
	syswrite($s, h2_frame(H2_PING, 0, 0, 'cgiwrap!'));
	my $pong = frame_until($s, T(5),
	    sub { $_[0][0] == H2_PING || $_[0][0] == H2_GOAWAY });
	ok($pong && $pong->[0] == H2_PING && ($pong->[1] & H2_ACK)
	    && $pong->[3] eq 'cgiwrap!', 'nginx: the TCP connection stayed '
	    . 'open (a PING answered after the reset)');
	close $s;
	show_logs($ng) if failures() > $f0;
	ok($ng->stop, 'nginx stopped') or diag($ng->stop_problem);
}

# Apache: the reset reaches nobody; the end of the TCP connection does.
my $load = join('', map { "LoadModule ${_}_module "
    . "$Server::APACHE_MOD/mod_$_.so\n" } qw(http2 proxy proxy_fcgi));
my $ap = eval { apache_start(mpm => 'event', dir => "$t/apache",
    conf => $load . <<"EOF") };
Protocols h2c http/1.1
Alias /cgi-bin/ "$fx->{prog}/"
<Directory "$fx->{prog}">
    Require all granted
    SetHandler "proxy:fcgi://@{[ $cw->socket ]}"
    ProxyFCGISetEnvIf true SCRIPT_FILENAME "$fx->{prog}/silent"
</Directory>
EOF
ok($ap, 'Apache started with mod_http2 and mod_proxy_fcgi') or diag($@);
if ($ap) {
	my $f0 = failures();
	my ($s, $pid, $reset) = started_then_reset($ap, 'apache');
	ok(!wait_record($fx, 'apache', T(2)),
	    'apache: 2 s after the reset, the request still runs');
	ok($pid && kill(0, $pid), 'apache: so does the program');
	close $s;
	my $closed = time;
	my $rec = wait_record($fx, 'apache', T(10)) // {};
	cmp_ok(time - $closed, '<', T(2),
	    'apache: ended within 2 s of the client closing the connection');
	aborted('apache', $rec, $pid);
	show_logs($ap) if failures() > $f0;
	ok($ap->stop, 'Apache stopped') or diag($ap->stop_problem);
}

ok(no_scripts_left($fx, T(10)), 'no process of the program is left')
    or diag("left:\n" . show_pids(script_pids($fx)));
ok($cw->stop, 'cgiwrap stopped') or diag($cw->stop_problem);
done_testing;
