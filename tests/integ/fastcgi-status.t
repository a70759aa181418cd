#!/usr/bin/perl
# The FastCGI status page (status_path) behind a real nginx configured
# with etc/nginx.conf, and straight on cgiwrap's socket:
#  - text, ?json (JSON::PP) and ?prometheus (every sample under its
#    # HELP and # TYPE, cgiwrap_ names) agree on the pool: start time,
#    accepted requests, idle / active / total / max active workers, the
#    listen queue and its maximum;
#  - the worker running a program shows its method, URI, client, elapsed
#    time and the CPU time of the program's processes (a program that
#    burns CPU in a child of its own);
#  - a URI with a quote, a backslash and bytes that are not UTF-8 keeps
#    the JSON valid;
#  - the page runs no program: no shutdown command, no log line;
#  - a worker killed in a request: its replacement is idle and the
#    active count is right again;
#  - the listen queue counts the connections waiting for a worker, on a
#    unix socket (sock_diag) and on a TCP one (TCP_INFO);
#  - cgiwrap -t refuses a status_path that does not start with /.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use JSON::PP;
use Time::HiRes qw(time);
use Server qw(T curl_get wait_for wait_for_file slurp write_file);
use Nginx qw(:all);

my $CGIWRAP = cgiwrap_behind_nginx(tools => [qw(curl)]);
my $PATH = '/cgiwrap-status';

# burn is a slow request: past its request_slowlog_timeout while it runs.
my $fx = fcgi_fixture(tag => 'fastcgi-status',
    conf => qq{status_path = "$PATH"\n}
    . qq{script "*/burn" { request_slowlog_timeout = 200ms }\n});
my $t = $fx->{dir};
# CPU in a child (0.3 s of it at least), then silent like silent.
write_file("$fx->{prog}/burn", 0755, <<"EOS");
#!/usr/bin/perl
my \$id = (\$ENV{QUERY_STRING} // '') =~ s/^id=//r;
my \$pid = fork // die "fork: \$!";
if (\$pid == 0) {
	1 while (times)[0] < 0.3;
	exit 0;
}
waitpid(\$pid, 0);
open(my \$f, '>', "$t/run/\$id.pid.tmp") or die;
print \$f "\$\$\\n";
close \$f;
rename("$t/run/\$id.pid.tmp", "$t/run/\$id.pid") or die;
for (1 .. 600) {
	last if -e "$t/run/\$id.release";
	select(undef, undef, undef, 0.05);
}
print "Content-Type: text/plain\\r\\n\\r\\nburnt \$id\\n";
EOS

my $started = time;
my $cw = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
    socket => 'unix', dir => $fx->{var}, workers => 3) };
ok($cw, 'cgiwrap -f -w 3 with status_path answers') or diag($@);
my $ng = $cw && eval { nginx_start(dir => "$t/nginx", conf => sub {
	return nginx_snippet(LISTEN => "127.0.0.1:$_[0]", ROOT => $fx->{prog},
	    SOCKET => $cw->socket);
}) };
ok($ng, 'nginx started with etc/nginx.conf') or diag($@);
unless ($cw && $ng) {
	done_testing;
	exit;
}
my @workers = $cw->wait_workers(3, T(10));
is(scalar @workers, 3, '3 workers');

sub page {
	my ($q) = @_;
	my $r = curl_get($ng->url($PATH . ($q // '')), max_time => T(10));
	is($r->{code}, 200, "GET $PATH" . ($q // '') . ': 200')
	    or diag("curl: $r->{err}\n" . $cw->out);
	return $r->{body};
}

sub json_page {
	my $body = page('?json');
	my $j = eval { JSON::PP->new->utf8->decode($body) };
	ok($j, '?json is valid JSON') or diag("$@\n$body");
	return $j // {};
}

# Prometheus text exposition: { name => [[labels hash, value]] }; every
# sample's metric has # HELP and # TYPE before it.
sub prometheus {
	my $body = page('?prometheus');
	my (%m, %help, %type, @bad);
	for my $l (split /\n/, $body) {
		if ($l =~ /^# HELP (\w+) \S/) {
			$help{$1} = 1;
		} elsif ($l =~ /^# TYPE (\w+) (gauge|counter)$/) {
			$type{$1} = $2;
		} elsif ($l =~ /^(\w+)(?:\{(.*)\})? (-?[0-9.e+]+)$/) {
			my ($n, $lab, $v) = ($1, $2 // '', $3);
			my %lab = $lab =~ /(\w+)="([^"]*)"/g;
			push @bad, "no HELP/TYPE before: $l"
			    unless $help{$n} && $type{$n};
			push @{ $m{$n} }, [\%lab, $v];
		} else {
			push @bad, "not exposition format: $l";
		}
	}
	is_deeply(\@bad, [], '?prometheus: every line is a comment or a '
	    . 'sample under its HELP and TYPE');
	is_deeply([grep { !/^cgiwrap_/ } keys %m], [],
	    '?prometheus: every metric is named cgiwrap_*');
	return \%m;
}

sub one { my ($m, $n) = @_; return $m->{$n} ? $m->{$n}[0][1] : undef }

# --- Every worker serves a request first ---------------------------------------
# So burn runs under a keeper forked before it (keeper.c): its CPU time
# must still be found, the keeper's own not counted.
{
	my @s = map { http_open($ng->port, "/cgi-bin/silent?id=warm$_") } 1 .. 3;
	ok(wait_for(sub { 3 == grep { -e "$fx->{run}/warm$_.pid" } 1 .. 3 },
	    T(20)), 'warm-up: three silent requests run at once, one per worker');
	write_file("$fx->{run}/warm$_.release", 0644, '') for 1 .. 3;
	like($_ ? http_read($_, T(20)) : '', qr/released warm/,
	    'warm-up: released') for @s;
}

# --- A program burning CPU in a child, and the page about it --------------------
my %j0;
my $t0 = time;
my $burn = http_open($ng->port, '/cgi-bin/burn?id=b1');
ok(wait_for_file("$fx->{run}/b1.pid", T(20)), 'burn: started, 0.3 s CPU burnt');
# Each page polled is a request too: the later counts go from the last.
my $seen;
ok(wait_for(sub { $seen = json_page(); ($seen->{slow_requests} // 0) == 1 },
    T(10)), 'json: burn is counted as a slow request');
my $base = $seen->{accepted_requests} // 0;
{
	my $j = json_page();
	%j0 = %$j;
	my @w = @{ $j->{workers} // [] };
	is(scalar @w, 3, 'json: 3 workers');
	is_deeply([sort { $a <=> $b } map { $_->{pid} } @w],
	    [sort { $a <=> $b } $cw->workers], 'json: the workers\' pids');
	my ($b) = grep { ($_->{uri} // '') eq '/cgi-bin/burn?id=b1' } @w;
	ok($b, 'json: a worker runs /cgi-bin/burn?id=b1')
	    or diag(explain($j));
	$b //= {};
	is($b->{state}, 'running', 'json: its state is running');
	is($b->{method}, 'GET', 'json: its method');
	is($b->{client}, '127.0.0.1', 'json: its client');
	cmp_ok($b->{cpu_ms} // -1, '>=', 250,
	    'json: its CPU time has the child\'s 0.3 s');
	cmp_ok($b->{elapsed_ms} // -1, '<=', (time - $t0) * 1000 + 50,
	    'json: its elapsed time is since the request');
	cmp_ok($b->{elapsed_ms} // -1, '>=', 250, 'json: elapsed >= CPU time');
	is($j->{active_workers}, 2, 'json: 2 active (burn, this page)');
	is($j->{idle_workers}, 1, 'json: 1 idle');
	is($j->{total_workers}, 3, 'json: 3 in all');
	cmp_ok($j->{max_active_workers}, '>=', 2, 'json: max active >= 2');
	is($j->{accepted_requests}, $base + 1, 'json: requests accepted: burn, '
	    . 'the pages before and this page');
	is($j->{slow_requests}, 1, 'json: one slow request');
	is($j->{listen_queue}, 0, 'json: nothing waits in the listen queue');
	cmp_ok($j->{max_listen_queue}, '>', 0, 'json: the backlog');
	ok($j->{start_time} >= int($started) && $j->{start_time} <= $t0,
	    'json: start time is when cgiwrap started');
	cmp_ok(abs(time - $j->{start_time} - $j->{start_since}), '<=', 2,
	    'json: start_since is the time since start_time');
}
{
	my $m = prometheus();
	is(one($m, 'cgiwrap_active_workers'), 2, 'prometheus: 2 active');
	is(one($m, 'cgiwrap_idle_workers'), 1, 'prometheus: 1 idle');
	is(one($m, 'cgiwrap_total_workers'), 3, 'prometheus: 3 workers');
	is(one($m, 'cgiwrap_accepted_requests_total'), $base + 2,
	    'prometheus: requests accepted, the JSON pages too');
	is(one($m, 'cgiwrap_slow_requests_total'), 1,
	    'prometheus: one slow request');
	is(one($m, 'cgiwrap_listen_queue'), 0, 'prometheus: listen queue 0');
	cmp_ok(one($m, 'cgiwrap_listen_queue_max') // 0, '>', 0,
	    'prometheus: listen queue max');
	cmp_ok(one($m, 'cgiwrap_max_active_workers') // 0, '>=', 2,
	    'prometheus: max active');
	is(one($m, 'cgiwrap_start_time_seconds'), $j0{start_time},
	    'prometheus: start time as in the JSON');
	my %busy = map { $_->[0]{pid} => $_->[1] }
	    @{ $m->{cgiwrap_worker_busy} // [] };
	is(scalar(grep { $_ == 1 } values %busy), 2,
	    'prometheus: 2 workers busy');
	my @cpu = grep { $_->[1] >= 0.25 }
	    @{ $m->{cgiwrap_worker_request_cpu_seconds} // [] };
	is(scalar @cpu, 1, 'prometheus: one request has >= 0.25 s CPU');
}
{
	my $text = page('');
	is($text =~ /^accepted requests: +(\d+)$/m ? $1 : -1, $base + 3,
	    'text: every page counted');
	like($text, qr/^slow requests: +1$/m, 'text: slow requests');
	like($text, qr/^active workers: +2$/m, 'text: active workers');
	like($text, qr/^uri: +\/cgi-bin\/burn\?id=b1\n^client: +127\.0\.0\.1\n^cpu ms: +\d{3,}$/m,
	    'text: the burn request, its client and CPU time');
}
write_file("$fx->{run}/b1.release", 0644, '');
like(http_read($burn, T(20)), qr/burnt b1/, 'burn: answered once released');

# --- No program for the page ---------------------------------------------------
{
	my $r = curl_get($ng->url('/cgi-bin/hello?id=after'), max_time => T(20));
	is($r->{code}, 200, 'hello after the pages: 200');
	ok(wait_record($fx, 'after', T(10)), 'hello: its shutdown record');
	ok(wait_record($fx, 'b1', T(10)), 'burn: its shutdown record');
	ok(wait_record($fx, "warm$_", T(10)), "warm$_: its shutdown record")
	    for 1 .. 3;
	is(record_count($fx), 5, 'the status pages ran no shutdown command');
	my @lines = split /\n/, slurp($fx->{log});
	is(scalar(grep { /\sstatus=/ } @lines), 5,
	    'the status pages wrote no log line') or diag(join("\n", @lines));
	my $j = json_page();
	is($j->{active_workers}, 1, 'json: only this page active now');
	is($j->{idle_workers}, 2, 'json: 2 idle');
}

# --- A URI no JSON can take raw ------------------------------------------------
{
	my $s = http_open($ng->port, "/cgi-bin/silent?id=q\"\\\xff\xfe");
	my $j;
	ok(wait_for(sub {
		$j = eval { JSON::PP->new->utf8->decode(curl_get(
		    $ng->url("$PATH?json"), max_time => T(10))->{body}) };
		return $j && grep { ($_->{uri} // '') =~ /silent/ }
		    @{ $j->{workers} };
	}, T(10)), 'json stays valid with " \\ and 0xff 0xfe in the URI');
	my ($w) = grep { ($_->{uri} // '') =~ /silent/ } @{ $j->{workers} // [] };
	is($w && $w->{uri}, '/cgi-bin/silent?id=q"\\%FF%FE',
	    'json: the URI, bytes outside ASCII as %XX');
	write_file("$fx->{run}/q\"\\\xff\xfe.release", 0644, '');
	http_read($s, T(20));
}

# --- A worker killed in a request ----------------------------------------------
{
	my $s = http_open($ng->port, '/cgi-bin/silent?id=k1');
	ok(wait_for_file("$fx->{run}/k1.pid", T(20)), 'silent k1 started');
	my $j = json_page();
	my ($w) = grep { ($_->{uri} // '') eq '/cgi-bin/silent?id=k1' }
	    @{ $j->{workers} };
	ok($w, 'json: the worker of k1');
	kill 'KILL', $w->{pid} if $w;
	ok(wait_for(sub { my @p = $cw->workers; @p == 3 && !grep
	    { $_ == ($w->{pid} // 0) } @p }, T(10)), 'the worker is replaced');
	$j = json_page();
	my ($nw) = grep { $_->{worker} == ($w->{worker} // -1) }
	    @{ $j->{workers} };
	isnt($nw->{pid}, $w->{pid}, 'json: its slot has the new pid');
	is($nw->{state}, 'idle', 'json: the new worker is idle');
	is($nw->{requests}, 0, 'json: the new worker took no request yet');
	is($j->{active_workers}, 1, 'json: the killed request is not active');
	write_file("$fx->{run}/k1.release", 0644, '');
	close $s;
}
$ng->stop;

# --- The listen queue ----------------------------------------------------------
# One worker held by a program; the page's request waits first in the
# queue, two silent connections behind it; once the worker is free it
# reads the page, with those two still waiting.
sub queued {
	my ($c, $what) = @_;
	my $s = fcgi_connect($c->socket);
	fcgi_write($s, fcgi_begin(1) . fcgi_params(1, fcgi_pairs(
	    SCRIPT_FILENAME => "$fx->{prog}/silent", QUERY_STRING => "id=$what",
	    REQUEST_METHOD => 'GET', SCRIPT_NAME => '/cgi-bin/silent')) .
	    fcgi_stdin(1, ''));
	ok(wait_for_file("$fx->{run}/$what.pid", T(20)), "$what: the one "
	    . 'worker runs a program');
	my $page = fcgi_connect($c->socket);
	fcgi_write($page, fcgi_begin(1) . fcgi_params(1, fcgi_pairs(
	    SCRIPT_NAME => $PATH, QUERY_STRING => 'json',
	    REQUEST_METHOD => 'GET')) . fcgi_stdin(1, ''));
	my @idle = map { fcgi_connect($c->socket) } 1 .. 2;
	write_file("$fx->{run}/$what.release", 0644, '');
	my $r = fcgi_read($page, T(20));
	my ($json) = $r->{stdout} =~ /\r\n\r\n(.*)\z/s;
	my $j = eval { JSON::PP->new->utf8->decode($json // '') } // {};
	is($j->{listen_queue}, 2, "$what: the listen queue has the 2 "
	    . 'connections waiting') or diag($r->{stdout});
	cmp_ok($j->{max_listen_queue} // 0, '>=', 2, "$what: its maximum");
	close $_ for @idle, $page;
	fcgi_read($s, T(20));
	close $s;
}
for my $kind (qw(unix tcp)) {
	my $c = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
	    socket => $kind, dir => $fx->{var}, workers => 1,
	    tag => "q$kind") };
	ok($c, "$kind: cgiwrap -w 1") or diag($@);
	queued($c, "queue-$kind") if $c;
	$c->stop if $c;
}
$cw->stop;

# --- A bad status_path ---------------------------------------------------------
{
	write_file("$t/bad.conf", 0644, qq{status_path = "status"\n});
	my $out = `'$CGIWRAP' -t -c '$t/bad.conf' 2>&1`;
	isnt($? >> 8, 0, 'cgiwrap -t refuses status_path = "status"');
	like($out, qr/^cgiwrap: \Q$t\E\/bad\.conf:1: status_path: 'status' does not start with \/$/m,
	    'with the line and the reason');
}
done_testing;
