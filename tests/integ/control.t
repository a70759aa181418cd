#!/usr/bin/perl
# Integration: runtime control by the script (issue 4).  SPEC R-CTL-1..3,
# R-POL-4 (finish early), R-POL-2 (notify_signal), R-IO-1 (control headers
# removed), R-STAT-1.
#
# Every case runs in both harness modes (pipes as mod_cgi, one socket as
# mod_cgid).  To keep the file short the cases of a group run at the same
# time, each in its own Harness directory: all runs of a group are started,
# then driven (hangups, go files), then checked.  The test programs are bash
# scripts (for $EPOCHREALTIME: they record their own times in files, on the
# same clock as the test's Time::HiRes::time), and wait for the test's go
# files with bounded loops; the only sleeps in them are their "work".
#
# Timing margins are chosen for a loaded 2-core machine running an ASan
# build: an upper bound leaves at least 0.5 s over the expected value; a
# lower bound is one the behaviour under test cannot undershoot.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Cwd qw(realpath);
use Harness;


Harness::require_binary();

# ---------------------------------------------------------------------------
# Helpers

# Bash prologue of every program: D, now (wall clock, seconds.micro), and
# wait_file NAME (bounded: 10 s at most).
my $PROLOGUE = <<'SH';
export LC_ALL=C
now() { echo "$EPOCHREALTIME"; }
wait_file() {
	local n=0
	while [ ! -e "$D/$1" ] && [ $n -lt 1000 ]; do sleep 0.01; n=$((n+1)); done
}
SH

# Start one case: a Harness directory with OPT{conf}/OPT{extra}, the
# program OPT{script} as DIR/NAME.sh, run in MODE.  Returns the case hash.
sub start_case {
	my ($mode, %o) = @_;
	my $t = Harness->new(conf => $o{conf} || {},
	    (defined $o{extra} ? (extra => $o{extra}->($o{name})) : ()));
	my $prog = $t->write_file("$o{name}.sh",
	    "#!/bin/bash\nD='" . $t->dir . "'\n$PROLOGUE$o{script}", 0755);
	my $r = $t->run(mode => $mode, argv => [$prog]);
	return { %o, mode => $mode, t => $t, r => $r, prog => $prog };
}

# A number a program wrote into DIR/NAME (its last line), or undef.
sub num {
	my ($c, $name) = @_;
	my @l = $c->{t}->file_lines($name);
	return undef unless @l && $l[-1] =~ /^\s*(\d+(?:\.\d+)?)\s*\z/;
	return $1;
}

# Pump the runs of CASES until every one has seen EOF on stdout, noting
# when (time of the first look that saw it) in ->{eof} and calling the
# case's on_eof then; bounded by TIMEOUT.
sub pump_all {
	my ($timeout, @cases) = @_;
	my $deadline = time + $timeout;
	while (1) {
		my $open = 0;
		for my $c (@cases) {
			next if $c->{eof};
			for (1 .. 64) { last unless $c->{r}->pump(0) }
			if ($c->{r}->stdout_eof) {
				$c->{eof} = time;
				$c->{on_eof}->($c) if $c->{on_eof};
			} else {
				$open++;
			}
		}
		return 1 unless $open;
		return 0 if time >= $deadline;
		sleep $Poll::POLL;
	}
}

# The supervisor of a case: the process of the test running the same
# executable as the front, but not the front (it forks without exec).
my $EXE = realpath($Harness::CGIWRAP) // $Harness::CGIWRAP;

sub sup_pid {
	my ($c) = @_;
	my $front = $c->{r}->pid;
	my $sup;
	wait_for(sub {
		($sup) = grep { $_ != $front
		    && (readlink("/proc/$_/exe") // '') eq $EXE } $c->{t}->procs;
		return defined $sup;
	}, T(5));
	return $sup;
}

# Bytes a process read with read(2) so far (pipes included; recv(2) on
# the front's socket does not count): how the test knows the supervisor
# has taken a line off the control pipe.
sub rchar {
	my ($pid) = @_;
	my $s = slurp_or_undef("/proc/$pid/io") // return undef;
	return $s =~ /^rchar:\s*(\d+)/m ? $1 : undef;
}

# Wait until the supervisor read N more bytes than BASE.
sub sup_read {
	my ($sup, $base, $n) = @_;
	return wait_for(sub { (rchar($sup) // 0) >= $base + $n }, T(5));
}

# An act: once the response started, let the script write LINE on the
# control descriptor, wait until the supervisor has read it (the line and
# the hangup come on two channels: the line first), then leave.
sub line_then_leave {
	my ($line) = @_;
	return sub {
		my ($c, $t, $r) = @_;
		ok($r->read_until(qr/started\n/, T(5)), 'response started');
		my $sup = sup_pid($c);
		ok($sup, 'supervisor found') or return;
		my $base = rchar($sup);
		$t->write_file('go1', '');
		ok(sup_read($sup, $base, length $line),
		    'supervisor read the control line');
		leave($c);
		$t->write_file('go', '');
	};
}

# VmRSS and VmHWM of PID in KiB.
sub vm {
	my ($pid) = @_;
	my $s = slurp_or_undef("/proc/$pid/status") // return ();
	my ($rss) = $s =~ /^VmRSS:\s+(\d+)/m;
	my ($hwm) = $s =~ /^VmHWM:\s+(\d+)/m;
	return ($rss // 0, $hwm // 0);
}

# Log lines of a case that carry a note.
sub notes {
	my ($c) = @_;
	return grep { /(?:^|\s)note=/ } $c->{t}->log_lines;
}

# is() for long strings: lengths and the first difference, not the bytes.
sub same {
	my ($got, $want, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return pass($name) if defined $got && $got eq $want;
	fail($name);
	$got //= '';
	my $i = 0;
	$i++ while $i < length($got) && $i < length($want)
	    && substr($got, $i, 1) eq substr($want, $i, 1);
	my @show = map {
		my $x = substr($_, $i, 40);
		$x =~ s/([^ -~])/sprintf '\\x%02x', ord $1/ge;
		"'$x'";
	} $got, $want;
	diag(sprintf "got %d bytes, want %d; first difference at %d:\n"
	    . "  got:  %s\n  want: %s", length $got, length $want, $i, @show);
	return 0;
}

sub show_log { diag("log:\n" . join("\n", $_[0]{t}->log_lines)) }

# The front's exit code, read to the end within SECONDS.
sub exits {
	my ($r, $code, $seconds) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is($r->finish(T($seconds)), $code, "front exits $code");
}

# Run the act or the check of a case: it gets the case, its Harness and
# its run.
sub step {
	my ($c, $what) = @_;
	$c->{$what}->($c, @$c{qw(t r)});
}

# Run a group: start every case, run its act (if any), then its check,
# each check in a subtest named after the case.
sub group {
	my ($mode, @specs) = @_;
	my @cases = map { start_case($mode, %$_) } @specs;
	for my $c (@cases) {
		next unless $c->{act};
		case_test("$c->{name}: drive", sub { step($c, 'act') });
	}
	for my $c (@cases) {
		case_test($c->{name}, sub { step($c, 'check') });
	}
	$_->{t}->cleanup for @cases;
}

my $CT = "Content-Type: text/plain\r\n";

# ---------------------------------------------------------------------------
# 1. Time limits: control headers, late time_limit on the descriptor,
#    max_time_limit, script_control = false, malformed lines.

my @TIME = (
{
	name => 'header_extends',
	# CGIWrap-Time-Limit: 3 under a 1 s policy, 2 s of work: NORMAL.
	conf => { max_execution_time => '1s' },
	script => <<'SH',
env > "$D/env"
readlink /proc/$$/fd/3 > "$D/fd3" || echo none > "$D/fd3"
now > "$D/t_start"
printf 'Content-Type: text/plain\r\nCGIWrap-Time-Limit: 3\r\nX-Kept: yes\r\n\r\nstarted\n'
sleep 2
echo worked
now > "$D/t_end"
SH
	check => sub {
		my ($c, $t, $r) = @_;
		exits($r, 0, 8);
		is($r->stdout, "${CT}X-Kept: yes\r\n\r\nstarted\nworked\n",
		    'control header removed, everything else byte for byte');
		my ($rec, $log) = $c->{t}->ended({
		    STATUS => 0, STATUS_NAME => 'NORMAL',
		    EXIT_CODE => 'exited', EXIT_STATUS => 0 });
		check_fields($log, { status => 'NORMAL' });
		ok(($rec->{CGIWRAP_ELAPSED_MS} // 0) >= 1900,
		    'ran its 2 s, past the 1 s policy')
		    or diag('elapsed_ms ' . ($rec->{CGIWRAP_ELAPSED_MS} // '?'));
		my $env = read_env_file($t->path('env')) || {};
		is($env->{CGIWRAP_CONTROL_FD}, 3, 'CGIWRAP_CONTROL_FD=3');
		like(($t->file_lines('fd3'))[0] // '', qr/^pipe:/,
		    'descriptor 3 is open in the child (a pipe)');
	},
},
{
	name => 'header_shortens',
	# A case-insensitive CGIWRAP-TIME-LIMIT: 1 under a 5 s policy, 3 s
	# of work: stopped at about 1 s, TIMEOUT.
	conf => { max_execution_time => '5s' },
	script => <<'SH',
printf 'Content-Type: text/plain\r\nCGIWRAP-TIME-LIMIT: 1\r\n\r\nstarted\n'
sleep 3
echo worked
SH
	check => sub {
		my ($c, $t, $r) = @_;
		exits($r, 124, 8);
		is($r->stdout, "${CT}\r\nstarted\n",
		    'control header removed, response cut (no 504 after output)');
		my ($rec, $log) = $c->{t}->ended({
		    STATUS => 2, STATUS_NAME => 'TIMEOUT',
		    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM' });
		check_fields($log, { status => 'TIMEOUT' });
		my $ms = $rec->{CGIWRAP_ELAPSED_MS} // 0;
		ok($ms >= 900 && $ms < T(2.5) * 1000, 'stopped at about 1 s')
		    or diag("elapsed_ms $ms");
	},
},
{
	name => 'descriptor_time_limit_late',
	# Policy 2 s; at 1 s the script writes "time_limit 2": the clock
	# restarts then, so the deadline moves from 2 s to 3 s after the
	# start (not 4 s as an "add" would give).  A heartbeat every 50 ms
	# shows when it was alive.
	conf => { max_execution_time => '2s' },
	script => <<'SH',
now > "$D/t_start"
printf 'Content-Type: text/plain\r\n\r\nstarted\n'
sleep 1
echo 'time_limit 2' >&3
now > "$D/t_write"
for i in $(seq 200); do now >> "$D/hb"; sleep 0.05; done
echo 'not stopped' > "$D/survived"
SH
	check => sub {
		my ($c, $t, $r) = @_;
		exits($r, 124, 10);
		my ($rec, $log) = $c->{t}->ended({
		    STATUS => 2, STATUS_NAME => 'TIMEOUT',
		    EXIT_CODE => 'killed' });
		my ($t0, $tw, $hb) = (num($c, 't_start'), num($c, 't_write'),
		    num($c, 'hb'));
		ok(defined $t0 && defined $tw && defined $hb,
		    'the script recorded its times') or return;
		note(sprintf 'write at %.3f s, last heartbeat %.3f s after it',
		    $tw - $t0, $hb - $tw);
		# cgiwrap's clock started before the script, so the old
		# deadline is at most t_start + 2.
		cmp_ok($hb - $t0, '>=', 2.4,
		    'alive well past the old deadline (2 s)');
		cmp_ok($hb - $tw, '>=', 1.5,
		    'alive until shortly before the new deadline (write + 2 s)');
		cmp_ok($hb - $tw, '<', T(2.6),
		    'stopped soon after the new deadline');
		# elapsed_ms counts from cgiwrap's start, a little after the
		# harness forked it.
		my $due = ($tw - $r->started + 2) * 1000;
		my $ms = $rec->{CGIWRAP_ELAPSED_MS} // 0;
		ok($ms >= $due - 400 && $ms < $due + 700,
		    'elapsed_ms is write time + 2 s')
		    or diag(sprintf 'elapsed_ms %d, expected about %d', $ms, $due);
	},
},
{
	name => 'max_time_limit_caps_descriptor',
	# max_time_limit = 2s: "time_limit 10" is capped; stopped near 2 s.
	conf => { max_execution_time => '30s', max_time_limit => '2s' },
	script => <<'SH',
printf 'Content-Type: text/plain\r\n\r\nstarted\n'
echo 'time_limit 10' >&3
for i in $(seq 100); do sleep 0.1; done
echo worked
SH
	check => sub {
		my ($c, $t, $r) = @_;
		exits($r, 124, 12);
		my ($rec, $log) = $c->{t}->ended({
		    STATUS => 2, STATUS_NAME => 'TIMEOUT',
		    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM' });
		my $ms = $rec->{CGIWRAP_ELAPSED_MS} // 0;
		ok($ms >= 1900 && $ms < T(3) * 1000, 'stopped near 2 s')
		    or diag("elapsed_ms $ms");
		ok(scalar(grep { /time_limit/ && /refus|cap/i } notes($c)),
		    'the refused time_limit 10 is logged')
		    or show_log($c);
	},
},
{
	name => 'max_time_limit_caps_header_none',
	# Policy 1 s, max_time_limit 2 s, CGIWrap-Time-Limit: 0 (none)
	# asks for more than the cap: it gets the cap, 2 s.
	conf => { max_execution_time => '1s', max_time_limit => '2s' },
	script => <<'SH',
printf 'Content-Type: text/plain\r\nCGIWrap-Time-Limit: 0\r\n\r\nstarted\n'
for i in $(seq 100); do sleep 0.1; done
echo worked
SH
	check => sub {
		my ($c, $t, $r) = @_;
		exits($r, 124, 12);
		is($r->stdout, "${CT}\r\nstarted\n", 'control header removed');
		my ($rec, $log) = $c->{t}->ended({
		    STATUS => 2, STATUS_NAME => 'TIMEOUT' });
		my $ms = $rec->{CGIWRAP_ELAPSED_MS} // 0;
		ok($ms >= 1900 && $ms < T(3) * 1000,
		    'stopped near the 2 s cap (not the 1 s policy, not never)')
		    or diag("elapsed_ms $ms");
		ok(scalar(grep { /time_limit/ && /refus|cap/i } notes($c)),
		    'the refused time limit 0 is logged') or show_log($c);
	},
},
{
	name => 'script_control_false',
	# Per script section: headers pass untouched, no descriptor.
	conf => { max_execution_time => '5s' },
	extra => sub {
		my ($name) = @_;
		return "script \"*/$name.sh\" {\n    script_control = false\n}\n";
	},
	script => <<'SH',
env > "$D/env"
readlink /proc/$$/fd/3 > "$D/fd3" 2>/dev/null || echo none > "$D/fd3"
printf 'Content-Type: text/plain\r\nCGIWrap-Time-Limit: 1\r\ncgiwrap-ignore-user-abort: on\r\n\r\nstarted\n'
sleep 1.5
echo worked
SH
	check => sub {
		my ($c, $t, $r) = @_;
		exits($r, 0, 8);
		is($r->stdout, "${CT}CGIWrap-Time-Limit: 1\r\n"
		    . "cgiwrap-ignore-user-abort: on\r\n\r\nstarted\nworked\n",
		    'control headers reach the client untouched');
		my ($rec, $log) = $c->{t}->ended({
		    STATUS => 0, STATUS_NAME => 'NORMAL',
		    EXIT_STATUS => 0 });
		ok(($rec->{CGIWRAP_ELAPSED_MS} // 0) >= 1400,
		    'the 1 s header had no effect');
		my $env = read_env_file($t->path('env'));
		ok($env && $env->{PATH}, 'the child wrote its environment');
		ok($env && !exists $env->{CGIWRAP_CONTROL_FD},
		    'no CGIWRAP_CONTROL_FD in the environment')
		    or diag("CGIWRAP_CONTROL_FD=$env->{CGIWRAP_CONTROL_FD}");
		is(($t->file_lines('fd3'))[0], 'none',
		    'descriptor 3 is not open in the child');
		is(scalar(notes($c)), 0, 'nothing noted');
	},
},
{
	name => 'malformed_lines',
	# Unknown or malformed control lines (and a malformed control
	# header) are each logged and ignored.
	conf => { max_execution_time => '5s' },
	script => <<'SH',
printf 'Content-Type: text/plain\r\nCGIWrap-Time-Limit: later\r\n\r\nstarted\n'
{
	echo 'bogus junk'
	echo 'time_limit soon'
	echo 'ignore_user_abort maybe'
	echo 'finish now'
} >&3
sleep 0.3
echo after
SH
	check => sub {
		my ($c, $t, $r) = @_;
		exits($r, 0, 8);
		is($r->stdout, "${CT}\r\nstarted\nafter\n",
		    'header removed; "finish now" did not end the response');
		$c->{t}->ended({ STATUS => 0, STATUS_NAME => 'NORMAL',
		    EXIT_STATUS => 0 });
		my @n = notes($c);
		for my $w (qw(bogus soon maybe finish later)) {
			ok(scalar(grep { /\Q$w\E/ } @n), "a note about '$w'")
			    or show_log($c);
		}
		is(scalar(@n), 5, 'one note per bad line') or show_log($c);
	},
},
);

# ---------------------------------------------------------------------------
# 2. ignore_user_abort from the script, and notify_signal.

# Common tail: wait for the go file, write a few lines (thrown away once
# the client is gone), then the marker.
my $WORK = <<'SH';
wait_file go
for i in 1 2 3 4 5; do echo "line $i"; sleep 0.05; done
now > "$D/done"
SH

# The client leaves after "ready"; the front must be gone at once.
sub leave {
	my ($c) = @_;
	my $r = $c->{r};
	ok($r->read_until(qr/ready\n/, T(5)), 'response started')
	    or diag('stdout: ' . $r->stdout);
	$r->hangup;
	is($r->wait_exit(T(2)), 141, 'front gone at once (141)');
}

# The act of a case whose script waits for "go" once the client left.
sub leave_then_go {
	my ($c, $t) = @_;
	leave($c);
	$t->write_file('go', '');
}

my @ABORT = (
{
	name => 'ignore_header_then_leave',
	script => <<'SH' . $WORK,
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\nCGIWrap-Ignore-User-Abort: on\r\n\r\nready\n'
SH
	act => \&leave_then_go,
	check => sub {
		my ($c, $t) = @_;
		ok(wait_for_file($t->path('done'), T(5)), 'the script finished');
		$c->{t}->ended({ STATUS => 1, STATUS_NAME => 'ABORTED',
		    EXIT_CODE => 'exited', EXIT_STATUS => 0 });
		unlike($c->{r}->stdout, qr/CGIWrap/i, 'control header removed');
	},
},
{
	name => 'ignore_descriptor_then_leave',
	script => <<'SH' . $WORK,
printf 'Content-Type: text/plain\r\n\r\nstarted\n'
wait_file go1
echo 'ignore_user_abort on' >&3
echo ready
SH
	act => line_then_leave("ignore_user_abort on\n"),
	check => sub {
		my ($c, $t) = @_;
		ok(wait_for_file($t->path('done'), T(5)), 'the script finished');
		$c->{t}->ended({ STATUS => 1, STATUS_NAME => 'ABORTED',
		    EXIT_CODE => 'exited', EXIT_STATUS => 0 });
	},
},
{
	name => 'ignore_on_then_off_then_leave',
	# on (header), later off (descriptor): the next disconnect stops it.
	script => <<'SH' . $WORK,
printf 'Content-Type: text/plain\r\nCGIWrap-Ignore-User-Abort: on\r\n\r\nstarted\n'
wait_file go1
echo 'ignore_user_abort off' >&3
echo ready
SH
	act => line_then_leave("ignore_user_abort off\n"),
	check => sub {
		my ($c, $t) = @_;
		$c->{t}->ended({ STATUS => 1, STATUS_NAME => 'ABORTED',
		    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM' });
		ok(!-e $t->path('done'), 'the script was stopped');
	},
},
{
	name => 'ignored_leave_then_off',
	# The client leaves while ignored; "ignore_user_abort off" then
	# stops the script at once, as PHP would.
	script => <<'SH',
printf 'Content-Type: text/plain\r\nCGIWrap-Ignore-User-Abort: on\r\n\r\nready\n'
wait_file go
now > "$D/t_off"
echo 'ignore_user_abort off' >&3
for i in $(seq 100); do sleep 0.05; done
now > "$D/done"
SH
	act => \&leave_then_go,
	check => sub {
		my ($c, $t, $r) = @_;
		my ($rec, $log) = $c->{t}->ended({
		    STATUS => 1, STATUS_NAME => 'ABORTED',
		    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM' }, undef, within => 8);
		ok(!-e $t->path('done'), 'the script was stopped');
		my $off = num($c, 't_off');
		ok(defined $off, 'the script sent off') or return;
		my $ms = $rec->{CGIWRAP_ELAPSED_MS} // 0;
		my $due = ($off - $r->started) * 1000;
		ok($ms < $due + 1000, 'stopped soon after "off"')
		    or diag(sprintf 'elapsed_ms %d, off at %d ms', $ms, $due);
	},
},
{
	name => 'notify_when_client_leaves',
	conf => { notify_signal => '"USR1"' },
	script => <<'SH',
trap 'echo usr1 >> "$D/usr1"' USR1
printf 'Content-Type: text/plain\r\nCGIWrap-Ignore-User-Abort: on\r\n\r\nready\n'
wait_file go
now > "$D/done"
SH
	act => sub {
		my ($c) = @_;
		leave($c);
		ok($c->{t}->wait_lines('usr1', T(3)),
		    'USR1 arrived while the script was silent');
		$c->{t}->write_file('go', '');
	},
	check => sub {
		my ($c, $t) = @_;
		ok(wait_for_file($t->path('done'), T(5)), 'the script finished');
		my ($rec, $log) = $c->{t}->ended({
		    STATUS => 1, EXIT_CODE => 'exited',
		    EXIT_STATUS => 0 });
		is(scalar(my @l = $t->file_lines('usr1')), 1, 'USR1 exactly once');
		like($log->{signals} // '', qr/USR1/, 'the log names USR1');
	},
},
{
	name => 'notify_not_when_client_stays',
	conf => { notify_signal => '"USR1"' },
	script => <<'SH',
trap 'echo usr1 >> "$D/usr1"' USR1
printf 'Content-Type: text/plain\r\nCGIWrap-Ignore-User-Abort: on\r\n\r\nready\n'
wait_file go
for i in 1 2 3 4 5; do sleep 0.05; done
echo bye
now > "$D/done"
SH
	act => sub {
		my ($c) = @_;
		ok($c->{r}->read_until(qr/ready\n/, T(5)), 'response started');
		$c->{t}->write_file('go', '');
	},
	check => sub {
		my ($c, $t, $r) = @_;
		exits($r, 0, 5);
		like($r->stdout, qr/ready\nbye\n\z/, 'whole response');
		$c->{t}->ended({ STATUS => 0, EXIT_STATUS => 0 });
		ok(-e $t->path('done'), 'the script finished');
		ok(!-e $t->path('usr1'), 'no USR1');
	},
},
);

# ---------------------------------------------------------------------------
# 3. Finish early (R-POL-4): close stdout or "finish", then 1.5 s of work.

# 200 KB of body (more than a default pipe holds; some of it is still
# queued when "finish" arrives, and must be relayed) then an end line.
my $BODY = ('a' x 200000) . "\nend\n";
my $BODY_SH = <<'SH';
printf 'Content-Type: text/plain\r\n\r\n'
head -c 200000 /dev/zero | tr '\0' a
printf '\nend\n'
SH

sub finish_script {
	my ($how) = @_;
	my $end = $how eq 'close' ? "exec >&-\n" : "echo finish >&3\n";
	# After "finish", output long after the line: thrown away, and
	# written without blocking (4 MiB: more than the 1 MiB that
	# cgiwrap's output pipe holds).
	my $late = $how eq 'close' ? '' : <<'SH';
{ echo 'late output'; head -c 4194304 /dev/zero; }
echo "$?" > "$D/late_rc"
SH
	return $BODY_SH . $end . <<'SH' . $late . <<'SH';
now > "$D/t_fin"
sleep 1.5
SH
now > "$D/t_done"
SH
}

# The response is complete; the client had EOF before the script's end.
sub early {
	my ($c, $t, $r) = @_;
	ok($c->{eof}, 'client saw EOF') or return;
	same($r->stdout, $CT . "\r\n" . $BODY, 'the full response, nothing late');
	is($r->wait_exit(T(5)), 0, 'front exits 0 after the script');
	is(($t->file_lines('late_rc'))[0], 0,
	    'output after finish was taken (and dropped)')
	    if $c->{name} =~ /finish_line/;
	$c->{t}->ended({ STATUS => 0, STATUS_NAME => 'NORMAL',
	    EXIT_CODE => 'exited', EXIT_STATUS => 0 });
	my ($fin, $done) = (num($c, 't_fin'), num($c, 't_done'));
	ok(defined $fin && defined $done, 'the script recorded its times')
	    or return;
	note(sprintf 'EOF %.3f s after finish, %.3f s before the end',
	    $c->{eof} - $fin, $done - $c->{eof});
	cmp_ok($c->{eof}, '<', $done - 0.5,
	    'EOF well before the script completed');
	cmp_ok($c->{eof} - $fin, '<', T(0.8), 'EOF right after finishing');
}

# The client waits for the end of the script.
sub late {
	my ($c, $t, $r) = @_;
	ok($c->{eof}, 'client saw EOF') or return;
	same($r->stdout, $CT . "\r\n" . $BODY, 'the full response');
	is($r->wait_exit(T(5)), 0, 'front exits 0');
	$c->{t}->ended({ STATUS => 0, EXIT_STATUS => 0 });
	my $done = num($c, 't_done');
	ok(defined $done, 'the script recorded its end') or return;
	cmp_ok($c->{eof}, '>=', $done, 'EOF only after the script completed');
}

my @FINISH = (
{
	name => 'close_stdout',
	conf => { max_execution_time => '5s' },
	script => finish_script('close'),
	check => \&early,
},
{
	name => 'finish_line',
	conf => { max_execution_time => '5s' },
	script => finish_script('finish'),
	check => \&early,
},
{
	name => 'close_stdout_finish_on_close_false',
	conf => { max_execution_time => '5s', finish_on_close => 'false' },
	script => finish_script('close'),
	check => \&late,
},
{
	name => 'finish_line_finish_on_close_false',
	# finish_on_close is about closing stdout; "finish" is asked for.
	conf => { max_execution_time => '5s', finish_on_close => 'false' },
	script => finish_script('finish'),
	check => \&early,
},
{
	name => 'output_after_finish_was_seen',
	# The "finish" line and stdout are two pipes, so output written in
	# the microseconds before cgiwrap reads the line cannot be told
	# from output written before it (the manual says so; closing stdout
	# is the exact way).  Output written once the line has been acted
	# on (the script's 0.5 s of work) never reaches the client, and
	# 4 MiB of it (more than the output pipe holds) does not block the
	# script.
	conf => { max_execution_time => '4s' },
	script => <<'SH',
printf 'Content-Type: text/plain\r\n\r\nbody\n'
echo finish >&3
sleep 0.5
echo 'late output'
head -c 4194304 /dev/zero
echo "$?" > "$D/late_rc"
now > "$D/done"
SH
	check => sub {
		my ($c, $t, $r) = @_;
		ok($c->{eof}, 'client saw EOF');
		same($r->stdout, "${CT}\r\nbody\n",
		    'nothing written after "finish" reached the client');
		ok(wait_for_file($t->path('done'), T(2)),
		    'the script wrote 4 MiB after finish without blocking');
		is(($t->file_lines('late_rc'))[0], 0, 'its writes succeeded');
		$c->{t}->ended({ STATUS => 0, STATUS_NAME => 'NORMAL',
		    EXIT_CODE => 'exited', EXIT_STATUS => 0 });
	},
},
{
	name => 'finish_then_time_limit',
	# The time limit still applies after finish; nothing is appended.
	conf => { max_execution_time => '1s' },
	script => <<'SH',
printf 'Content-Type: text/plain\r\n\r\nbody\n'
echo finish >&3
now > "$D/t_fin"
for i in $(seq 60); do sleep 0.05; done
now > "$D/done"
SH
	check => sub {
		my ($c, $t, $r) = @_;
		ok($c->{eof}, 'client saw EOF');
		my $fin = num($c, 't_fin');
		ok(defined $fin && $c->{eof} - $fin < T(0.5),
		    'EOF right after finish, not at the timeout')
		    or diag(sprintf 'EOF %.3f s after finish',
		    $c->{eof} - ($fin // 0));
		is($r->stdout, "${CT}\r\nbody\n", 'no 504, nothing appended');
		is($r->wait_exit(T(5)), 124, 'front exits 124');
		$c->{t}->ended({ STATUS => 2, STATUS_NAME => 'TIMEOUT',
		    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM' });
		ok(!-e $t->path('done'), 'stopped by the time limit');
	},
},
{
	name => 'finish_then_client_leaves',
	# After the complete response the client leaving is no abort:
	# NORMAL, the script runs on, no notify_signal.
	conf => { max_execution_time => '5s', notify_signal => '"USR1"' },
	script => <<'SH',
trap 'echo usr1 >> "$D/usr1"' USR1
printf 'Content-Type: text/plain\r\nCGIWrap-Ignore-User-Abort: on\r\n\r\nbody\n'
echo finish >&3
wait_file go
for i in 1 2 3 4 5; do sleep 0.05; done
now > "$D/done"
SH
	on_eof => sub {
		my ($c) = @_;
		$c->{r}->hangup;
		$c->{t}->write_file('go', '');
	},
	check => sub {
		my ($c, $t, $r) = @_;
		ok($c->{eof}, 'client saw EOF');
		is($r->stdout, "${CT}\r\nbody\n", 'the response');
		ok(wait_for_file($t->path('done'), T(5)), 'the script finished');
		is($r->wait_exit(T(5)), 0, 'front exits 0');
		$c->{t}->ended({ STATUS => 0, STATUS_NAME => 'NORMAL',
		    EXIT_STATUS => 0 });
		ok(!-e $t->path('usr1'), 'no USR1');
	},
},
);

# 3b. "finish" that the front learns of before it has read the header
#     block: the front is stopped (SIGSTOP, standing for a busy machine)
#     while the script writes its response and "finish".

sub finish_first_case {
	my ($mode, $foc) = @_;
	my $c = start_case($mode, name => "finish_first_$foc",
	    conf => { max_execution_time => '4s', finish_on_close => $foc },
	    script => <<'SH');
wait_file go0
printf 'Content-Type: text/plain\r\n\r\nbody\n'
echo finish >&3
now > "$D/t_fin"
wait_file go
head -c 4194304 /dev/zero
echo "$?" > "$D/late_rc"
now > "$D/done"
SH
	my ($t, $r) = @$c{qw(t r)};
	my $sup = sup_pid($c);
	ok($sup, 'supervisor found') or return;
	my $base = rchar($sup);
	ok(kill('STOP', $r->pid), 'front stopped');
	$t->write_file('go0', '');
	my $read = sup_read($sup, $base, length "finish\n");
	ok(kill('CONT', $r->pid), 'front continued');
	ok($read, 'the supervisor read "finish" while the front was stopped')
	    or return;
	pump_all(T(6), $c);
	my $fin = num($c, 't_fin');
	ok($c->{eof} && defined $fin && $c->{eof} - $fin < T(1.5),
	    'EOF soon after the front continued')
	    or diag(sprintf 'EOF %.3f s after finish',
	    ($c->{eof} // 0) - ($fin // 0));
	is($r->stdout, "${CT}\r\nbody\n", 'the response, whole');
	$t->write_file('go', '');
	ok(wait_for_file($t->path('done'), T(2)),
	    'then 4 MiB of output did not block the script');
	is(($t->file_lines('late_rc'))[0], 0, 'its writes succeeded');
	is($r->wait_exit(T(5)), 0, 'front exits 0');
	$c->{t}->ended({ STATUS => 0, STATUS_NAME => 'NORMAL',
	    EXIT_CODE => 'exited', EXIT_STATUS => 0 });
	$t->cleanup;
}

# ---------------------------------------------------------------------------
# 4. A flood of 100 MB on the control descriptor.

# The bound: the front and the supervisor hold only fixed buffers (a
# 64 KiB relay chunk, the max_header_size header buffer, a 4 KiB control
# read buffer and a 256-byte line).  Measured peaks are about 1 MiB (the
# static build) and 8 MiB (ASan: shadow memory, allocator); 16 MiB is twice
# the ASan figure and a sixth of the flood: keeping any real part of the
# flood would break it, while no build's normal footprint comes near.
my $RSS_MAX = 16 * 1024;	# KiB

sub flood_case {
	my ($mode) = @_;
	my $c = start_case($mode, name => 'flood',
	    conf => { max_execution_time => '60s' }, script => <<'SH');
printf 'Content-Type: text/plain\r\n\r\nbefore\n'
t0=$(now)
# A junk line, then 1000 lines of 100 KB (each too long) with more junk
# lines among them: 100 MB.
perl -e '$l = "x" x 99999; print "junk 0\n"; for (1 .. 1000) {
	print $l, "\n"; print "junk $_\n" unless $_ % 100 }' >&3
echo "$t0 $(now)" > "$D/flooded"
wait_file go
echo finish >&3
now > "$D/t_fin"
sleep 1
now > "$D/t_done"
SH
	my ($t, $r) = @$c{qw(t r)};
	my $sup = sup_pid($c);
	ok($sup, 'supervisor found') or return;
	my %peak;
	# Sample during the flood; VmHWM keeps the peak between samples.
	my $flooded = wait_for(sub {
		for my $p ($r->pid, $sup) {
			my ($rss, $hwm) = vm($p);
			$peak{$p} = $hwm if $hwm > ($peak{$p} // 0);
			$peak{"rss$p"} = $rss if $rss > ($peak{"rss$p"} // 0);
		}
		$r->pump(0);
		return -s $t->path('flooded');
	}, T(40));
	ok($flooded, 'the script wrote its 100 MB') or return;
	my ($f0, $f1) = split ' ', ($t->file_lines('flooded'))[0];
	note(sprintf 'flood took %.2f s', $f1 - $f0);
	for my $p ($r->pid, $sup) {
		my ($rss, $hwm) = vm($p);
		$hwm = $peak{$p} if ($peak{$p} // 0) > $hwm;
		my $who = $p == $sup ? 'supervisor' : 'front';
		note("$who: peak VmRSS sampled $peak{\"rss$p\"} KiB, VmHWM $hwm KiB");
		cmp_ok($hwm, '<', $RSS_MAX, "$who peak RSS < 16 MiB");
	}
	ok(scalar(pids_alive($r->pid, $sup)) == 2,
	    'front and supervisor still there');
	$t->write_file('go', '');
	pump_all(T(10), $c);
	ok($c->{eof}, 'client saw EOF');
	is($r->stdout, "${CT}\r\nbefore\n", 'the response');
	is($r->wait_exit(T(5)), 0, 'front exits 0');
	my ($fin, $done) = (num($c, 't_fin'), num($c, 't_done'));
	ok(defined $fin && defined $done && $c->{eof} < $done - 0.3,
	    '"finish" after the flood still works')
	    or diag(sprintf 'EOF %.3f, done %.3f', $c->{eof} // 0, $done // 0);
	$c->{t}->ended({ STATUS => 0, STATUS_NAME => 'NORMAL',
	    EXIT_CODE => 'exited', EXIT_STATUS => 0 });
	my @n = notes($c);
	ok(@n >= 1 && @n <= 1011, 'at most one note per bad line')
	    or diag(scalar(@n) . ' notes');
	ok(scalar(grep { /junk/ } @n), 'junk lines are noted');
	$t->cleanup;
}

# ---------------------------------------------------------------------------
# 5. Order: a control line written before the client left takes effect
#    before the hangup, however late the supervisor gets to run.  The
#    supervisor is stopped (SIGSTOP) to stand for a busy machine.

sub order_case {
	my ($mode) = @_;
	my $c = start_case($mode, name => 'order',
	    conf => { max_execution_time => '10s' }, script => <<'SH');
printf 'Content-Type: text/plain\r\n\r\nstarted\n'
wait_file go1
echo 'ignore_user_abort on' >&3
echo ready
wait_file go2
now > "$D/done"
SH
	my ($t, $r) = @$c{qw(t r)};
	ok($r->read_until(qr/started\n/, T(5)), 'response started') or return;
	my $sup = sup_pid($c);
	ok($sup, 'supervisor found') or return;
	ok(kill('STOP', $sup), 'supervisor stopped');
	$t->write_file('go1', '');
	ok($r->read_until(qr/ready\n/, T(5)), 'line written, then "ready"');
	$r->hangup;
	is($r->wait_exit(T(2)), 141, 'front gone at once');
	ok(kill('CONT', $sup), 'supervisor continued');
	$t->write_file('go2', '');
	my ($rec, $log) = $t->outcome(T(5));
	ok(-e $t->path('done'), 'the script finished');
	is($rec->{CGIWRAP_EXIT_CODE}, 'exited', 'it was not killed');
	is($rec->{CGIWRAP_STATUS}, 1, 'status 1');
	$t->cleanup;
}

# ---------------------------------------------------------------------------

# CONTROL_ONLY=REGEX runs only the parts whose name matches (debugging).
sub part {
	my ($name, $code) = @_;
	return if $ENV{CONTROL_ONLY} && $name !~ /$ENV{CONTROL_ONLY}/;
	local $Poll::DEGRADED = 0;
	subtest $name => $code;
}

# A case's own subtest: the waits of one case are not cut short because
# another one failed (Harness shortens every wait after a timeout).
sub case_test {
	my ($name, $code) = @_;
	local $Poll::DEGRADED = 0;
	subtest $name => $code;
}

my $t0 = time;
for my $mode (@Harness::MODES) {
	part "time limits [$mode]" => sub { group($mode, @TIME) };
	part "ignore_user_abort and notify_signal [$mode]" =>
	    sub { group($mode, @ABORT) };
	part "finish early [$mode]" => sub {
		my @cases = map { start_case($mode, %$_) } @FINISH;
		pump_all(T(8), @cases);
		for my $c (@cases) {
			case_test($c->{name}, sub { step($c, 'check') });
		}
		$_->{t}->cleanup for @cases;
	};
	part "finish before the header was read [$mode]" => sub {
		case_test("finish_on_close = $_", sub { finish_first_case($mode, $_) })
		    for qw(true false);
	};
	part "flood on the control descriptor [$mode]" =>
	    sub { flood_case($mode) };
	part "control line before hangup [$mode]" =>
	    sub { order_case($mode) };
}
note(sprintf 'control.t took %.1f s', time - $t0);
done_testing;
