#!/usr/bin/perl
# Fault matrix (issue 6): the child fails.
#  - a real segmentation fault (a bad pointer, not kill -SEGV as in
#    core-crash.t) in the middle of the body and in the middle of the
#    header block;
#  - SIGKILL from outside (the test), before the header and mid-body;
#  - the child writes more than 1 MiB and exits while nothing has been
#    read yet: every byte still reaches the server.
# Each row: the front's exit (128+N, or the child's status), what reached
# the server, the shutdown command once with the right status and exit,
# the log line, no process left.  SPEC R-SHUT-1, R-SHUT-3, R-IO-1, R-IO-5,
# section 9.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA qw(sha256_hex);
use Test::More;
use Harness;

Harness::require_binary();

my $HEAD = "Content-Type: application/octet-stream\r\n\r\n";

both_modes 'SIGSEGV mid-body: every byte written before it arrives' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $n = 300000;
	# perl dereferences address 8: a genuine SIGSEGV.
	my $prog = $t->script('segv.sh', <<SH);
echo \$\$ > "\$D/child.pid"
exec perl -e '\$| = 1; print "Content-Type: application/octet-stream\\r\\n\\r\\n";
    print "s" x $n; unpack("p", pack("J", 8)); print "survived"'
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 128 + 11, 'front exits 128+SIGSEGV');
	is($r->stdout, $HEAD . ('s' x $n), 'the whole output arrived, no more')
	    or diag('got ' . length($r->stdout) . ' bytes');
	my $cpid = $t->read_pidfile('child.pid');
	my ($rec, $log) = $t->ended({
		STATUS => 0, STATUS_NAME => 'NORMAL',
		EXIT_CODE => ['dumped', 'killed'], EXIT_STATUS => 'SEGV',
		PID => $cpid, HTTP_STATUS => 200, BYTES_OUT => $n,
	},
	    { status => 'NORMAL', out => $n, signals => '-',
	    exit => qr/^(dumped|killed):SEGV\z/ });
	ok(!defined $log->{error}, 'no error in the log line');
};

both_modes 'SIGSEGV mid-header: the half header passes, the log says why' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('segv.sh', <<'SH');
echo $$ > "$D/child.pid"
exec perl -e '$| = 1; print "Status: 200 OK\r\nContent-Ty";
    unpack("p", pack("J", 8))'
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 128 + 11, 'front exits 128+SIGSEGV');
	# The server judges it, as it would the program run directly.
	is($r->stdout, "Status: 200 OK\r\nContent-Ty",
	    'the half header passed untouched');
	my ($rec, $log) = $t->ended({ STATUS => 0, EXIT_STATUS => 'SEGV',
	    EXIT_CODE => ['dumped', 'killed'], HTTP_STATUS => '' },
	    { exit => qr/^(dumped|killed):SEGV\z/,
	    error => qr/header/, http => '-' });
	unlike($r->stderr, qr/^cgiwrap: /m,
	    'nothing of cgiwrap\'s on stderr (the server\'s script log)');
};

both_modes 'child SIGKILLed from outside before the header: no output' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	$t->sleeper('nap');
	my $prog = $t->script('silent.sh', <<'SH');
echo $$ > "$D/child.pid"
exec "$D/nap" 1000
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	my $cpid = $t->wait_pidfile('child.pid', T(5));
	ok(wait_for(sub { my ($p) = $t->procs($t->path('nap'));
	    defined $p && $p == $cpid }, T(5)), 'child waits') or return;
	ok(kill('KILL', $cpid), 'SIGKILL sent to the child');
	is($r->finish(T(5)), 128 + 9, 'front exits 128+SIGKILL');
	is($r->stdout, '', 'no answer of cgiwrap\'s own: the server\'s');
	my ($rec, $log) = $t->ended({ STATUS => 0, EXIT_CODE => 'killed',
	    EXIT_STATUS => 'KILL', PID => $cpid, HTTP_STATUS => '' });
	# The front tells the supervisor of the missing header, which stops
	# the group if it has not reaped the child yet: a TERM to a child
	# that was dying already may be listed (a race, harmless).
	check_fields($log, { status => 'NORMAL', exit => 'killed:KILL',
	    signals => ['-', 'TERM'], error => qr/header/ });
};

both_modes 'child SIGKILLed from outside mid-body: the response is cut' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	$t->sleeper('nap');
	my $prog = $t->script('writer.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\n'
i=0
while [ $i -lt 1000 ]; do echo "line $i"; i=$((i+1)); done
exec "$D/nap" 1000
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/line 999\n/, T(5)), 'the lines arrived') or return;
	my $cpid = $t->read_pidfile('child.pid');
	ok(wait_for(sub { my ($p) = $t->procs($t->path('nap'));
	    defined $p && $p == $cpid }, T(5)), 'child waits') or return;
	ok(kill('KILL', $cpid), 'SIGKILL sent to the child');
	is($r->finish(T(5)), 128 + 9, 'front exits 128+SIGKILL');
	my $want = "Content-Type: text/plain\r\n\r\n"
	    . join('', map { "line $_\n" } 0 .. 999);
	is($r->stdout, $want, 'the response is what the child wrote');
	my ($rec, $log) = $t->ended({ STATUS => 0, EXIT_CODE => 'killed',
	    EXIT_STATUS => 'KILL', PID => $cpid, HTTP_STATUS => 200,
	    BYTES_OUT => length($want) - 28 },
	    { status => 'NORMAL', exit => 'killed:KILL',
	    signals => '-' });
	ok(!defined $log->{error}, 'no error in the log line');
};

both_modes 'child exits with more than 1 MiB unread: every byte arrives' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	# What fits in the pipe to the front (1 MiB once the output is bulk)
	# plus the server's side: the child can exit.  A pipe there is made
	# 1 MiB too, which 64 KiB more checks; a socket's buffers hold what
	# the kernel lets in, 64 KiB when they fill a page at a time.
	my $size = (1 << 20) + ($mode eq 'pipes' ? 65536 : 0) + 7;
	my ($data, $sum) = $t->random_file('data', $size);
	my $prog = $t->script('bulk.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Content-Type: application/octet-stream\r\n\r\n'
cat "$D/data"
echo done > "$D/done"
exit 3
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	my $cpid = $t->wait_pidfile('child.pid', T(5));
	ok($cpid, 'child started') or return;
	# Nothing is read meanwhile.
	ok(wait_for(sub { -e $t->path('done') && !pids_alive($cpid) }, T(10)),
	    'the child wrote everything and exited, nothing read yet')
	    or return;
	is($r->finish(T(10)), 3, 'front exits with the child\'s status');
	my ($head, $body) = $r->response;
	is($head, "Content-Type: application/octet-stream", 'header block');
	is(length $body, $size, 'every byte arrived');
	is(sha256_hex($body), $sum, 'the bytes are the child\'s (SHA-256)');
	my ($rec, $log) = $t->ended({ STATUS => 0, EXIT_CODE => 'exited',
	    EXIT_STATUS => 3, PID => $cpid, BYTES_OUT => $size },
	    { status => 'NORMAL', exit => 'exited:3',
	    out => $size });
};

done_testing;
