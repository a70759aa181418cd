#!/usr/bin/perl
# Fault matrix (issue 6): the log and the shutdown commands fail.
#
# Log file unusable (a directory in its place; mode 0444 for a non-root
# user; its directory gone).  Decided behaviour: at the start of the
# request a `cgiwrap: log PATH ...` line goes to stderr (the server's
# error log), and the request runs normally (its line goes to syslog,
# which may not exist here: not checked).  The log directory removed
# while the request runs: the request still ends normally.
#
# Shutdown commands: missing, not executable, hanging past their
# `timeout` (killed, and the log says so with shutdown=NAME and a note
# naming the timeout), flooding stdout with 100 MB (the request ends; at
# most 100 lines of it in the log plus one "more output not logged").
# The commands after a failing one still run.  SPEC R-LOG-1, R-LOG-2,
# R-SHUT-1, R-SHUT-2, R-SHUT-4.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use Harness;

Harness::require_binary();

my $OK = "Content-Type: text/plain\r\n\r\nok\n";

# Write mark.sh (the shutdown command "after": "ARG STATUS" into
# DIR/marks) and start a program that answers $OK; returns the run.
sub mark_then_ok {
	my ($t, $mode) = @_;
	$t->script('mark.sh', "echo \"\$1 \$CGIWRAP_STATUS\" >> \"\$D/marks\"\n");
	my $prog = $t->script('ok.sh',
	    "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
	return $t->run(mode => $mode, argv => [$prog]);
}

# The program waits for DIR/go before it answers, so that the stderr
# line can be seen to come at the start.
my $WAITER = <<'SH';
echo $$ > "$D/child.pid"
n=0
while [ ! -e "$D/go" ] && [ $n -lt 500 ]; do sleep 0.01; n=$((n+1)); done
printf 'Content-Type: text/plain\r\n\r\nok\n'
SH

# A log path the harness's config names instead of DIR/log.
sub with_log {
	my ($t, $path) = @_;
	my $c = slurp($t->conf);
	$c =~ s/^log = .*$/log = "$path"/m or die 'no log line';
	$t->write_file('cgiwrap.conf', $c, 0644);
}

# A run whose log is unusable: the stderr line at the start, then a
# normal request.  CMD: the command line (default: as root).
sub unusable_log {
	my ($t, $mode, $path, %o) = @_;
	my $prog = $t->script('wait.sh', $WAITER);
	my $r = $t->run(mode => $mode, argv => [$prog],
	    $o{cmd} ? (cmd => [@{ $o{cmd} }, $Harness::CGIWRAP, '-c', $t->conf,
	    '--', $prog]) : ());
	ok($t->wait_pidfile('child.pid', T(5)), 'the program started');
	ok(wait_for(sub { $r->pump(0.01); $r->stderr =~ /\n/ }, T(3)),
	    'a stderr line while the program runs (at the start)');
	like($r->stderr, qr/\Acgiwrap: log \Q$path\E\b.*\n\z/,
	    'it is one cgiwrap: line naming the log file');
	$t->write_file('go', '');
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, $OK, 'the response is normal');
	unlike($r->stderr, qr/\n.+/, 'no other stderr line');
	my $rec = $t->wait_rec(T(5));
	ok($rec, 'the shutdown command ran');
	check_fields($rec, { STATUS => 0, EXIT_STATUS => 0 }, 'CGIWRAP_');
	ok($t->wait_quiet(T(3)), 'no process of the request left')
	    or diag($t->ps);
	is($t->rec_count, 1, 'the shutdown command ran once');
	return $r;
}

both_modes 'log file unwritable: a directory in its place' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $path = $t->path('logdir');
	mkdir $path or die "mkdir $path: $!";
	with_log($t, $path);
	unusable_log($t, $mode, $path);
	ok(-d $path, 'still a directory');
};

both_modes 'log file unwritable: mode 0444, cgiwrap not root' => sub {
	my ($mode) = @_;
	SKIP: {
		skip 'needs root to run cgiwrap as another user', 1 if $> != 0;
		my $t = Harness->new;
		chmod 0777, $t->dir, $t->path('rec');
		my $path = $t->path('ro.log');
		$t->write_file('ro.log', "old line\n", 0444);
		my $nobody = getpwnam('nobody') // 65534;
		chown $nobody, -1, $path;
		with_log($t, $path);
		unusable_log($t, $mode, $path, cmd => ['setpriv',
		    "--reuid=$nobody", "--regid=$nobody", '--clear-groups', '--']);
		is(slurp($path), "old line\n", 'the file is untouched');
	}
};

both_modes 'log directory gone' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $path = $t->path('gone/cgiwrap.log');
	with_log($t, $path);
	unusable_log($t, $mode, $path);
	ok(!-e $t->path('gone'), 'nothing made in its place');
};

both_modes 'log directory removed while the request runs' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	mkdir $t->path('var') or die;
	my $path = $t->path('var/cgiwrap.log');
	with_log($t, $path);
	my $prog = $t->script('wait.sh', $WAITER);
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($t->wait_pidfile('child.pid', T(5)), 'the program started');
	$r->pump(0.05);
	is($r->stderr, '', 'no stderr line: the log was usable at the start');
	unlink $path;
	rmdir $t->path('var') or die "rmdir: $!";
	$t->write_file('go', '');
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, $OK, 'the response is normal');
	my $rec = $t->wait_rec(T(5));
	check_fields($rec, { STATUS => 0, EXIT_STATUS => 0 }, 'CGIWRAP_');
	ok($t->wait_quiet(T(3)), 'no process of the request left')
	    or diag($t->ps);
	is($t->rec_count, 1, 'the shutdown command ran once');
	ok(!-e $t->path('var'), 'the directory is not made again');
};

# Log lines of shutdown command NAME.
sub cmd_lines {
	my ($t, $name) = @_;
	return map { parse_log_line($_) }
	    grep { /(?:^|\s)shutdown=\Q$name\E(?:\s|$)/ } $t->log_lines;
}

both_modes 'shutdown commands missing and not executable' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => <<'CONF');
shutdown "missing" { command = {"@D@/no-such-command", "x"} }
shutdown "noexec" { command = {"@D@/noexec.sh"} }
shutdown "after" { command = {"@D@/mark.sh", "after"} }
CONF
	$t->write_file('noexec.sh', "#!/bin/sh\necho ran > '" . $t->dir
	    . "/noexec.ran'\n", 0644);
	my $r = mark_then_ok($t, $mode);
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, $OK, 'the response is normal');
	is($r->stderr, '', 'nothing on stderr');
	my ($rec, $log) = $t->ended(undef, { status => 'NORMAL' });
	ok($t->wait_lines('marks', T(3)), 'the command after them ran');
	is_deeply([$t->file_lines('marks')], ['after 0'], 'once, status 0');
	my @m = cmd_lines($t, 'missing');
	is(scalar @m, 1, 'one log line for the missing command');
	like($m[0]{note} // '', qr/\Q${\ $t->path('no-such-command')}\E.*No such file/,
	    'it names the path and the error');
	my @n = cmd_lines($t, 'noexec');
	is(scalar @n, 1, 'one log line for the command not executable');
	like($n[0]{note} // '', qr/noexec\.sh.*Permission denied/,
	    'it names the path and the error');
	ok(!-e $t->path('noexec.ran'), 'it did not run');
};

both_modes 'shutdown command hanging past its timeout' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => <<'CONF');
shutdown "hang" { command = {"@D@/hang.sh"} timeout = 1s }
shutdown "after" { command = {"@D@/mark.sh", "after"} }
CONF
	$t->sleeper('hangnap');
	$t->script('hang.sh', <<'SH');
echo started > "$D/hang.started"
"$D/hangnap" 1000 &
exec "$D/hangnap" 1000
SH
	my $r = mark_then_ok($t, $mode);
	is($r->finish(T(5)), 0, 'front exits 0 (the response does not wait)');
	is($r->stdout, $OK, 'the response is normal');
	ok($t->wait_lines('hang.started', T(5)), 'the command started');
	my $t0 = time;
	ok($t->wait_lines('marks', T(5)), 'the command after it ran');
	ok(time - $t0 < T(3), 'within about its 1 s timeout');
	my ($rec, $log) = $t->ended(undef, { status => 'NORMAL' });
	my @h = cmd_lines($t, 'hang');
	my @to = grep { ($_->{note} // '') =~ /timeout/ } @h;
	is(scalar @to, 1, 'one line with shutdown=hang and a note= naming '
	    . 'the timeout') or diag(join "\n", $t->log_lines);
	like($to[0]{note} // '', qr/\b(1000ms|1s)\b/, 'and its value');
	is_deeply([grep { ($_->{note} // '') !~ /timeout|^killed KILL\z/ } @h],
	    [], 'nothing else about it but how it ended (killed KILL)');
	is_deeply([$t->procs($t->path('hangnap'))], [],
	    'its process group was killed');
};

both_modes 'shutdown command flooding stdout with 100 MB' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => <<'CONF');
shutdown "flood" { command = {"@D@/flood.sh"} }
shutdown "after" { command = {"@D@/mark.sh", "after"} }
CONF
	$t->script('flood.sh', <<'SH');
yes 'flooding the log' | head -c 100000000
echo done > "$D/flood.done"
SH
	my $r = mark_then_ok($t, $mode);
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, $OK, 'the response is normal, nothing of the flood');
	ok(wait_for_file($t->path('flood.done'), T(20)),
	    'the command wrote its 100 MB and ended');
	ok($t->wait_lines('marks', T(10)), 'the command after it ran');
	my ($rec, $log) = $t->ended(undef, { status => 'NORMAL' });
	my @f = cmd_lines($t, 'flood');
	my @out = grep { ($_->{note} // '') eq 'flooding the log' } @f;
	my @more = grep { ($_->{note} // '') =~ /more output not logged/ } @f;
	ok(@out >= 90 && @out <= 100, 'at most 100 lines of its output')
	    or diag(scalar(@out) . ' lines');
	is(scalar @more, 1, 'one "more output not logged" note');
	is(scalar(@f), @out + @more, 'nothing else about it (not killed)')
	    or diag(join "\n", map { $_->{_line} } grep {
	    ($_->{note} // '') ne 'flooding the log' } @f);
	ok(-s $t->path('log') < 1 << 20, 'the log stays small');
};

done_testing;
