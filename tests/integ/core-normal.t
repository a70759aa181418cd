#!/usr/bin/perl
# Integration: a normal request, the harness playing the web server (once
# with pipes as mod_cgi, once with a socketpair as mod_cgid).
# A name passed twice: env_set and env_unset take every copy.
# SPEC R-IO-1, R-IO-3, R-SHUT-3, R-LOG-1, R-PROC-2, R-ENV-1, section 9.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(realpath);
use Digest::SHA qw(sha256_hex);
use IO::Select;
use POSIX ();
use Test::More;
use Time::HiRes ();
use Harness;

Harness::require_binary();

my $SIZE = 64 << 20;

both_modes '64 MiB random binary response arrives byte-exact' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my (undef, $sum) = $t->random_file('data', $SIZE);
	my $prog = $t->script('big.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Content-Type: application/octet-stream\r\n\r\n'
exec cat "$D/data"
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	my $ev = $r->finish(T(30));
	is($ev, 0, 'front exit status is the child\'s (0)');
	ok($r->stdout_eof, 'stdout ended');
	my ($head, $body) = $r->response;
	is($head, 'Content-Type: application/octet-stream', 'header block');
	is(length($body // ''), $SIZE, 'body length');
	is(sha256_hex($body // ''), $sum, 'body SHA-256 equals the data\'s');
	is($r->stderr, '', 'nothing on stderr');
	my $cpid = $t->read_pidfile('child.pid');
	my ($rec, $log) = $t->ended({
		STATUS => 0, STATUS_NAME => 'NORMAL', EXIT_CODE => 'exited',
		EXIT_STATUS => 0, PID => $cpid, TARGET => realpath($prog),
		HTTP_STATUS => 200, BYTES_IN => 0,
		BYTES_OUT => [ $SIZE, length $r->stdout ],
		ELAPSED_MS => qr/^\d+\z/,
	});
	is($rec->{HTTP_X_HARNESS}, 'x-' . (split m{/}, $t->dir)[-1],
	    'shutdown command gets the CGI variables');
	is($rec->{REQUEST_METHOD}, 'GET', 'REQUEST_METHOD passed too');
	check_fields($log, {
		target => realpath($prog), status => 'NORMAL',
		exit => 'exited:0', in => 0, out => $rec->{CGIWRAP_BYTES_OUT},
		signals => '-', http => 200, pid => $cpid,
		elapsed_ms => qr/^\d+\z/,
	});
	ok(!exists $log->{error}, 'no error= in the log line');
};

both_modes 'exit status mirrors the child\'s (exit 3)' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('three.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\nthree\n'
exit 3
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	# mod_cgi and mod_cgid signal the pid they started as the response
	# ends, then wait while it lives (mod_cgi reaps first, with WNOHANG):
	# the front must be gone when the server sees the end.
	$r->read_until(sub { 0 }, T(5));
	ok($r->stdout_eof && $r->reaped, 'front exited before stdout ended');
	is($r->finish(T(5)), 3, 'front exits 3');
	is($r->stdout, "Content-Type: text/plain\r\n\r\nthree\n",
	    'response passed through');
	my ($rec, $log) = $t->ended({ STATUS => 0, EXIT_CODE => 'exited',
	    EXIT_STATUS => 3 },
	    { status => 'NORMAL', exit => 'exited:3' });
};

both_modes 'Status header and LF-only header block pass unchanged' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $out = "Status: 404 Not Found\nContent-Type: text/plain\n"
	    . "X-Empty:\n\nnot here\n";
	$t->write_file('resp', $out);
	my $prog = $t->script('nf.sh', <<'SH');
cat "$D/resp"
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, $out, 'stdout is exactly what the child wrote');
	my ($rec, $log) = $t->ended({ STATUS => 0, HTTP_STATUS => 404 },
	    { status => 'NORMAL', http => 404 });
};

# A server may pass a name twice (nginx does for a repeated header): a
# name the config sets or unsets loses every copy the request had.
both_modes 'env_set and env_unset take every copy of a name' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => <<'CONF');
env_set = {"HTTP_X_SET=config"}
env_unset = {"HTTP_X_GONE"}
CONF
	my $prog = $t->script('environ.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
tr '\0' '\n' < /proc/$$/environ
SH
	my $r = $t->run(mode => $mode, argv => [$prog],
	    env => { HTTP_X_SET => 'client1', HTTP_X_GONE => 'secret1' },
	    env_dup => ['HTTP_X_SET=client2', 'HTTP_X_GONE=secret2']);
	is($r->finish(T(5)), 0, 'front exits 0');
	my (undef, $body) = $r->response;
	my @got = split /\n/, $body // '';
	ok(scalar(grep { /^HTTP_X_HARNESS=/ } @got), 'the environment was read');
	is_deeply([grep { /^HTTP_X_SET=/ } @got], ['HTTP_X_SET=config'],
	    'env_set: only the config\'s value');
	is_deeply([grep { /^HTTP_X_GONE=/ } @got], [], 'env_unset: no copy');
	my ($rec) = $t->outcome(T(5));
	is($rec->{HTTP_X_SET}, 'config', 'the shutdown command: the config\'s '
	    . 'value');
};

both_modes 'child environment and descriptors' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('env.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
env
echo '--fds--'
for f in /proc/$$/fd/*; do echo "$f $(readlink "$f")"; done
SH
	my $r = $t->run(mode => $mode, argv => [$prog], env => {
		HTTP_PROXY => 'http://proxy.invalid:3128',
		CGIWRAP_STATUS => 7, CGIWRAP_PID => 1,
		CGIWRAP_EXIT_CODE => 'forged', CGIWRAP_CONFIG => $t->conf,
		QUERY_STRING => 'a=1&b=2',
	});
	is($r->finish(T(5)), 0, 'front exits 0');
	my (undef, $body) = $r->response;
	$body //= '';
	my ($env, $fds) = split /^--fds--\n/m, $body, 2;
	my %env = map { /^([^=]+)=(.*)/ ? ($1, $2) : () } split /\n/, $env;
	ok(!exists $env{HTTP_PROXY}, 'HTTP_PROXY removed (httpoxy)');
	# R-SHUT-3's variables, here forged by the request, never reach the
	# child (CGIWRAP_CONTROL_FD of R-CTL-2 may).
	my @st = grep { exists $env{"CGIWRAP_$_"} } qw(STATUS STATUS_NAME
	    EXIT_CODE EXIT_STATUS PID TARGET ELAPSED_MS BYTES_IN BYTES_OUT
	    HTTP_STATUS);
	is_deeply(\@st, [], 'no CGIWRAP_* status variable for the child');
	is($env{CGIWRAP_CONFIG}, $t->conf, 'CGIWRAP_CONFIG passes');
	is($env{QUERY_STRING}, 'a=1&b=2', 'CGI variables pass');
	is($env{HTTP_X_HARNESS}, 'x-' . (split m{/}, $t->dir)[-1],
	    'HTTP_ variables pass');
	ok(defined $fds, 'descriptor list read');
	my @held;
	for my $l (split /\n/, $fds // '') {
		my ($fd, $what) = split / /, $l, 2;
		push @held, $l if defined $what
		    && grep { $_ eq $what } $r->server_fds;
	}
	is_deeply(\@held, [], 'child holds no descriptor of the server')
	    or diag("server: @{[ $r->server_fds ]}\nchild:\n$fds");
	my ($rec) = $t->ended({ STATUS => 0, PID => qr/^\d+\z/,
	    EXIT_CODE => 'exited' });
	isnt($rec->{CGIWRAP_PID}, 1, 'request cannot forge CGIWRAP_PID');
};

# A script that writes HEAD (shell lines), waits for the file go (5 s
# at most) and writes "second", run in MODE: the harness and the run.
sub stream_run {
	my ($mode, $name, $head) = @_;
	my $t = Harness->new;
	my $prog = $t->script($name, $head . <<'SH');
n=0
while [ ! -e "$D/go" ] && [ $n -lt 500 ]; do sleep 0.01; n=$((n+1)); done
echo second
SH
	return ($t, $t->run(mode => $mode, argv => [$prog]));
}

# Let a stream_run script go on; "second" must follow what matches LAST.
sub stream_end {
	my ($t, $r, $last) = @_;
	$t->write_file('go', '');
	is($r->finish(T(5)), 0, 'front exits 0');
	like($r->stdout, qr/${last}second\n\z/, 'the rest came');
	$t->outcome(T(5));
}

both_modes 'streaming: output reaches the server while the child waits' => sub {
	my ($mode) = @_;
	my ($t, $r) = stream_run($mode, 'stream.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
date +%s.%N
SH
	ok($r->read_until(qr/\r\n\r\n\d+\.\d+\n/, T(5)),
	    'the first line arrived before the child wrote more') or return;
	my $now = Time::HiRes::time();
	my ($stamp) = $r->stdout =~ /\r\n\r\n(\d+\.\d+)\n/;
	ok($now - $stamp < T(0.1), 'within 100 ms of its write')
	    or diag(sprintf 'latency %.3f ms', 1000 * ($now - $stamp));
	stream_end($t, $r, qr/\n\d+\.\d+\n/);
};

# cgit writes its pages a few bytes at a time; the front lets such
# output gather a moment (cgiwrap.8, Processes) and must then read on,
# not wait for the child's exit.
both_modes 'streaming: a burst of small writes arrives whole while the child waits' => sub {
	my ($mode) = @_;
	my ($t, $r) = stream_run($mode, 'burst.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
i=0
while [ $i -lt 300 ]; do printf '%d,' $i; i=$((i+1)); done
printf 'end\n'
SH
	my $burst = join('', map { "$_," } 0 .. 299) . "end\n";
	ok($r->read_until(qr/end\n/, T(5)),
	    'the whole burst arrived before the child wrote more') or return;
	is(($r->stdout =~ /\r\n\r\n(.*)\z/s)[0], $burst, 'byte for byte');
	stream_end($t, $r, qr/end\n/);
};

both_modes 'stderr relayed to the server\'s stderr' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('err.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\nok\n'
echo 'first stderr line' >&2
printf 'partial ' >&2
sleep 0.05
printf 'then the rest\n' >&2
head -c 100000 /dev/zero | tr '\0' e >&2
echo >&2
printf 'no newline at the end' >&2
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, "Content-Type: text/plain\r\n\r\nok\n", 'stdout alone');
	# Short lines arrive intact; a line longer than a pipe's atomic write
	# (PIPE_BUF) may be cut into several lines, as servers do in their
	# error logs, but nothing of it is lost.
	my @l = split /\n/, $r->stderr;
	is_deeply([@l[0, 1]], ['first stderr line', 'partial then the rest'],
	    'short lines intact, a line written in two parts joined');
	is($l[-1], 'no newline at the end', 'the unterminated last line');
	my @long = @l[2 .. $#l - 1];
	is(join('', @long), 'e' x 100000, 'the 100000-byte line, all of it')
	    or diag(scalar(@long) . ' pieces');
	ok(!grep({ /[^e]/ } @long), 'nothing mixed into it');
	$t->outcome(T(5));
};

# A shim may name its program by a relative path: the program runs in
# its own directory (shim_chdir), as the path named from where the shim
# ran, so the path still names it there.
both_modes 'a relative program path, run in its own directory' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	mkdir $t->path('sub') or die "mkdir: $!";
	$t->script('sub/where.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n%s %s\n' "$0" "$(pwd)"
SH
	my $r = $t->run(mode => $mode, argv => ['./sub/where.sh']);
	is($r->finish(T(10)), 0, 'front exits 0');
	my (undef, $body) = $r->response;
	is($body, $t->dir . '/./sub/where.sh ' . realpath($t->path('sub'))
	    . "\n", '$0 is the path named, from the shim\'s directory; the '
	    . 'working directory is the program\'s');
	$t->ended({ STATUS => 0, EXIT_STATUS => 0 });
};

# The kernel counts pipe pages per user: past pipe-user-pages-soft every
# new pipe of that user gets two.  The server's pipe is made larger
# (1 MiB) only for a response past 64 KiB, not for every request.
subtest 'the server\'s pipe grows for bulk output only' => sub {
	for my $c ([ 'small', 6, 64 << 10, qr/\r\n\r\n\0{6}\z/ ],
	    [ 'bulk', 256 << 10, 1 << 20, qr/\r\n\r\n(?:\0{1024}){256}\z/ ]) {
		my ($name, $n, $want, $all) = @$c;
		my $t = Harness->new;
		my $prog = $t->script("$name.sh", <<SH);
printf 'Content-Type: text/plain\\r\\n\\r\\n'
head -c $n /dev/zero
n=0
while [ ! -e "\$D/go" ] && [ \$n -lt 1000 ]; do sleep 0.01; n=\$((n+1)); done
SH
		my $r = $t->run(mode => 'pipes', argv => [$prog]);
		ok($r->read_until($all, T(10)),
		    "$name: $n bytes arrived") or next;
		# F_GETPIPE_SZ, while the program still runs.
		is(fcntl($r->{outfh}, 1032, 0), $want,
		    "$name: the server's pipe holds $want bytes");
		$t->write_file('go', '');
		is($r->finish(T(10)), 0, "$name: front exits 0");
		$t->outcome(T(5));
	}
};

# A server may start us with 0 or 2 closed: /dev/null takes them, or
# our own pipes would land there and the front would read its own.
subtest 'started with stdin and stderr closed' => sub {
	my $t = Harness->new;
	my $prog = $t->script('closed.sh', <<'SH');
n=$(wc -c)
printf 'Content-Type: text/plain\r\n\r\nin=%s\n' "$n"
echo to-stderr >&2
SH
	pipe(my $rd, my $wr) or die "pipe: $!";
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		close $rd;
		open(STDOUT, '>&', $wr) or POSIX::_exit(126);
		close STDIN;
		close STDERR;
		{ exec($Harness::CGIWRAP, '-c', $t->conf, '--', $prog) }
		POSIX::_exit(127);
	}
	close $wr;
	my $out = '';
	my $deadline = Time::HiRes::time() + T(10);
	my $sel = IO::Select->new($rd);
	while ((my $left = $deadline - Time::HiRes::time()) > 0) {
		last if !$sel->can_read($left) ||
		    !sysread($rd, $out, 65536, length $out);
	}
	# Waited for, not killed, unless it hangs: a watchdog.
	local $SIG{ALRM} = sub { kill 'KILL', $pid };
	alarm(T(10));
	waitpid($pid, 0);
	alarm(0);
	is($?, 0, 'front exits 0');
	is($out, "Content-Type: text/plain\r\n\r\nin=0\n",
	    'the response is whole, from an empty body');
	$t->outcome(T(5));
};

done_testing;
