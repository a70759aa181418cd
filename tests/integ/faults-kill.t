#!/usr/bin/perl
# Fault matrix (issue 6): cgiwrap's own processes SIGKILLed.
#
# The front (the process the server started): core-kill-front.t has it
# killed before any output, after the header, mid-body and after the
# child closed stdout; here the moments it lacks: in the middle of a
# header line, and while the request body is still coming.  The
# supervisor must still stop the child, run the shutdown command once and
# write the log line (R-PROC-3).
#
# The supervisor (the front's child process).  Decided behaviour: the
# child dies with it (PR_SET_PDEATHSIG SIGKILL, spawn.c); the front
# answers `Status: 500` if no header had been sent, else cuts the
# response, and exits 125 with a `cgiwrap: ... supervisor ended
# unexpectedly` line on stderr (in cgiwrap's log when the error pipe
# ended with the response, as under mod_cgi); no shutdown command and no
# request line can run (the supervisor is what runs them).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;
use Poll qw(in_path);

Harness::require_binary();

# Children of PID (from /proc/*/stat), zombies included.
sub children_of {
	my ($pid) = @_;
	my @c;
	opendir(my $d, '/proc') or return ();
	for my $p (grep { /^\d+\z/ } readdir $d) {
		my $st = slurp_or_undef("/proc/$p/stat") // next;
		push @c, $p + 0 if $st =~ /\) \S (\d+) / && $1 == $pid;
	}
	return @c;
}

both_modes 'front SIGKILLed mid-header' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my ($r, $cpid) = $t->written_then_waits($mode,
	    'Status: 202 Accepted\r\nContent-Ty',
	    'child wrote a header and a half and waits') or return;
	ok($r->kill_front('KILL'), 'SIGKILL sent to the front');
	ok(defined $r->wait_exit(T(2)), 'front is gone');
	is($r->exit_signal, 9, 'front died of SIGKILL');
	is($r->stdout, '', 'nothing of the incomplete header was passed on');
	$t->aborted_by_term($cpid, { BYTES_OUT => 0 },
	    { http => '-', signals => 'TERM', pid => $cpid });
	is_deeply([pids_alive($cpid)], [], 'child is gone');
};

both_modes 'front SIGKILLed while the request body is being sent' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my ($r, $cpid, $size) = $t->stalled_upload($mode, 100000) or return;
	ok($r->body_written < $size, 'the body is not all sent');
	ok($r->kill_front('KILL'), 'SIGKILL sent to the front');
	ok(defined $r->wait_exit(T(2)), 'front is gone');
	is($r->exit_signal, 9, 'front died of SIGKILL');
	my ($rec, $log) = $t->aborted_by_term($cpid);
	my $in = $rec->{CGIWRAP_BYTES_IN} // -1;
	ok($in >= 100000 && $in <= $r->body_written,
	    'BYTES_IN: what the front had passed on when it died')
	    or diag("BYTES_IN $in, sent " . $r->body_written);
	is($log->{in}, $in, 'in');
	is_deeply([pids_alive($cpid)], [], 'child is gone');
};

# Supervisor SIGKILLed.  Programs by moment; each ends as its own sleeper
# (exec), so the child is the only process of the request besides
# cgiwrap's own two.
my @SUP = (
	['before the header', <<'SH', undef, 1],
echo $$ > "$D/child.pid"
exec "$D/nap" 1000
SH
	['mid-header', <<'SH', undef, 1],
echo $$ > "$D/child.pid"
printf 'Content-Type: text/pl'
exec "$D/nap" 1000
SH
	['mid-body', <<'SH', qr/\A(?:Content-Type: text\/plain\r\n\r\n)(?:line\n)+\z/, 0],
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\n'
i=0
while [ $i -lt 200 ]; do echo line; i=$((i+1)); done
exec "$D/nap" 1000
SH
	['after the child closed stdout', <<'SH', qr/\AContent-Type: text\/plain\r\n\r\ncomplete\n\z/, 0],
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\ncomplete\n'
exec "$D/nap" 1000 >&-
SH
);

for my $case (@SUP) {
	my ($moment, $text, $want, $error) = @$case;
	both_modes "supervisor SIGKILLed $moment" => sub {
		my ($mode) = @_;
		my $t = Harness->new;
		$t->sleeper('nap');
		my $prog = $t->script('prog.sh', $text);
		my $r = $t->run(mode => $mode, argv => [$prog]);
		my $cpid = $t->wait_pidfile('child.pid', T(5));
		ok($cpid, 'child started') or return;
		ok(wait_for(sub { $r->pump(0.01);
		    my ($p) = $t->procs($t->path('nap'));
		    defined $p && $p == $cpid }, T(5)), 'child waits') or return;
		if ($want) {
			ok($r->read_until($want, T(5)), 'output so far arrived')
			    or return;
		}
		if ($moment =~ /closed/) {
			ok($r->read_until(sub { $r->stdout_eof }, T(5)),
			    'the response is complete');
		}
		my @sup = children_of($r->pid);
		is(scalar @sup, 1, 'the front has one child, the supervisor')
		    or return;
		ok(kill('KILL', $sup[0]), 'SIGKILL sent to the supervisor');
		is($r->finish(T(5)), 125, 'front exits 125');
		if ($moment =~ /closed/ && $mode eq 'pipes') {
			# As mod_cgi, whose error pipe ended with the
			# response: cgiwrap's own log has it.
			like(slurp($t->path('log')),
			    qr/\bnote=".*supervisor ended unexpectedly"$/m,
			    'the log: supervisor ended unexpectedly');
		} else {
			like($r->stderr,
			    qr/^cgiwrap: .*supervisor ended unexpectedly$/m,
			    'stderr: supervisor ended unexpectedly');
		}
		if ($error) {
			my ($head, $body) = $r->response;
			like($head // '', qr/\AStatus: 500\b/,
			    'Status: 500 (no header had been sent)');
			like($body, qr/\A500 /, 'with a short body')
		} else {
			like($r->stdout, $want,
			    'the response is cut, nothing added');
		}
		ok(wait_for(sub { !pids_alive($cpid) }, T(3)),
		    'the child died with the supervisor');
		ok($t->wait_quiet(T(3)), 'no process of the request left')
		    or diag("processes:\n" . $t->ps);
		# The supervisor is gone: nothing can run them.  Checked
		# after everything above, when a late one would be there.
		is($t->rec_count, 0, 'no shutdown command ran');
		is(scalar(grep { !/\bnote=/ } $t->log_lines), 0,
		    'no request line');
	};
}

# A child that starts a child of its own (nap) and waits for it; each
# writes its pid file.
sub parent_script {
	my ($t) = @_;
	$t->sleeper('nap');
	return $t->script('parent.sh', <<'SH');
echo $$ > "$D/child.pid"
"$D/nap" 1000 &
echo $! > "$D/grandchild.pid"
wait
SH
}

# A child's own children are in its process group and do not get the
# parent-death signal: the supervisor was their subreaper, and with it
# gone they would run on unsupervised.
both_modes 'supervisor SIGKILLed: the child\'s own children go too' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = parent_script($t);
	my $r = $t->run(mode => $mode, argv => [$prog]);
	my $cpid = $t->wait_pidfile('child.pid', T(5));
	my $gpid = $t->wait_pidfile('grandchild.pid', T(5));
	ok($cpid && $gpid, 'child and grandchild started') or return;
	my @sup = children_of($r->pid);
	is(scalar @sup, 1, 'the front has one child, the supervisor')
	    or return;
	kill 'KILL', $sup[0];
	is($r->finish(T(5)), 125, 'front exits 125');
	like(($r->response)[0] // '', qr/\AStatus: 500\b/, 'Status: 500');
	ok(wait_for(sub { !pids_alive($cpid) }, T(3)), 'the child died');
	ok(wait_for(sub { !pids_alive($gpid) }, T(3)),
	    'the grandchild died too')
	    or diag("left:\n" . $t->ps);
	ok($t->wait_quiet(T(1)), 'no process of the request left');
};

# The same, with the supervisor killed before it could take in the
# child's pid: strace holds its return from vfork while the child runs,
# forks and is waited for.  The child tells its pid itself, before its
# exec (spawn.c), so the front still knows which group to kill.
subtest 'supervisor SIGKILLed before its vfork returned: the group goes too'
    => sub {
	ok(in_path('strace'), 'strace is installed (make deps)') or return;
	my $t = Harness->new;
	my $prog = parent_script($t);
	my $hold = int(T(3) * 1e6);
	# LeakSanitizer cannot run in a traced process.
	my $asan = join(':', grep { defined } $ENV{ASAN_OPTIONS},
	    'detect_leaks=0');
	my $r = $t->run(env => { ASAN_OPTIONS => $asan }, cmd => ['strace',
	    '-f', '-qq', '-o', '/dev/null', '-e', 'trace=vfork', '-e',
	    "inject=vfork:delay_exit=$hold", $Harness::CGIWRAP, '-c', $t->conf,
	    '--', $prog]);
	my $cpid = $t->wait_pidfile('child.pid', T(5));
	my $gpid = $t->wait_pidfile('grandchild.pid', T(5));
	ok($cpid && $gpid, 'child and grandchild started') or return;
	my @front = children_of($r->pid);
	my @sup = map { children_of($_) } @front;
	is(scalar @sup, 1, 'the front has one child, the supervisor')
	    or return;
	ok(kill('KILL', $sup[0]), 'SIGKILL sent to the supervisor');
	is($r->finish(T(10)), 125, 'front exits 125, told by strace');
	ok(wait_for(sub { !pids_alive($cpid, $gpid) }, T(3)),
	    'the child and the grandchild died')
	    or diag("left:\n" . $t->ps);
	ok($t->wait_quiet(T(3)), 'no process of the request left');
};

done_testing;
