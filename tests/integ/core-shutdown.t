#!/usr/bin/perl
# Integration: shutdown commands.  Global ones first, then the matching
# section's, each in file order; argv without a shell; stdin /dev/null,
# output to the log and never to the client; `when`; per-command timeout;
# its environment is the program's (env_set, env_unset and the script
# variables of handler mode applied, no CGIWRAP_CONTROL_FD) plus the
# status variables.  SPEC R-SHUT-1, R-SHUT-2, R-SHUT-4.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

my $MARK = <<'SH';
echo "$1 $CGIWRAP_STATUS" >> "$D/marks"
SH

both_modes 'order: global commands, then the section\'s, in file order' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => <<'CONF');
shutdown "g2" { command = {"@D@/mark.sh", "g2"} }
shutdown "g3" { command = {"@D@/mark.sh", "g3"} }
script "*/nomatch-*" {
    shutdown "x" { command = {"@D@/mark.sh", "x"} }
}
script "*/ordered*" {
    shutdown "s1" { command = {"@D@/mark.sh", "s1"} }
    shutdown "s2" { command = {"@D@/mark.sh", "s2"} }
}
CONF
	$t->script('mark.sh', $MARK);
	my $prog = $t->script('ordered.sh',
	    "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	$t->outcome(T(5));
	is_deeply([$t->file_lines('marks')], ['g2 0', 'g3 0', 's1 0', 's2 0'],
	    'g2, g3, s1, s2 (after the harness\'s own global one)');
};

both_modes 'argv without a shell; stdin /dev/null; output to the log' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => <<'CONF');
shutdown "args" {
    command = {"@D@/args.sh", "a b", "x;touch @D@/pwned", "$QUERY_STRING",
               "${QUERY_STRING}"}
}
CONF
	$t->script('args.sh', <<'SH');
for a in "$@"; do echo "$a"; done > "$D/args"
readlink /proc/$$/fd/0 > "$D/stdin"
echo SHUTDOWN-STDOUT-MARK
echo SHUTDOWN-STDERR-MARK >&2
SH
	my $prog = $t->script('prog.sh',
	    "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
	my $r = $t->run(mode => $mode, argv => [$prog],
	    env => { QUERY_STRING => 'q;touch%20pwned' });
	is($r->finish(T(5)), 0, 'front exits 0');
	$t->outcome(T(5));
	my @args = $t->file_lines('args');
	is_deeply([@args[0 .. 2]],
	    ['a b', 'x;touch ' . $t->dir . '/pwned', '$QUERY_STRING'],
	    'argv passed word for word');
	# libconfuse replaces ${NAME} in strings with getenv(NAME) while it
	# parses: parsed with the request's environment, the client would
	# choose this word.
	is(scalar(@args), 4, 'four arguments');
	unlike($args[3] // '', qr/touch%20pwned/,
	    'the request\'s QUERY_STRING is not spliced in by ${...}');
	ok(!-e $t->path('pwned'), 'no shell ran');
	is(slurp($t->path('stdin')), "/dev/null\n", 'stdin is /dev/null');
	ok(wait_for(sub { grep { /SHUTDOWN-STDERR-MARK/ } $t->log_lines }, T(2)),
	    'its stderr went to the log');
	ok(scalar(grep { /SHUTDOWN-STDOUT-MARK/ } $t->log_lines),
	    'its stdout went to the log');
	unlike($r->stdout . $r->stderr, qr/SHUTDOWN-/, 'nothing to the client');
};

my $WHEN = <<'CONF';
shutdown "normal" { command = {"@D@/mark.sh", "normal"} when = {"NORMAL"} }
shutdown "aborted" { command = {"@D@/mark.sh", "aborted"} when = {"ABORTED"} }
shutdown "ended" {
    command = {"@D@/mark.sh", "ended"}
    when = {"ABORTED", "TIMEOUT", "ABORTED,TIMEOUT"}
}
CONF

both_modes 'when: restricts a command to some statuses (NORMAL)' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => $WHEN);
	$t->script('mark.sh', $MARK);
	my $prog = $t->script('prog.sh',
	    "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	$t->outcome(T(5));
	is_deeply([$t->file_lines('marks')], ['normal 0'], 'only "normal" ran');
};

both_modes 'when: restricts a command to some statuses (ABORTED)' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => $WHEN);
	$t->script('mark.sh', $MARK);
	$t->sleeper('nap');
	my $prog = $t->script('prog.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\nready\n'
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok($r->read_until(qr/ready\n/, T(5)), 'response started') or return;
	$r->hangup;
	ok(defined $r->wait_exit(T(3)), 'front exits');
	$t->outcome(T(5));
	is_deeply([$t->file_lines('marks')], ['aborted 1', 'ended 1'],
	    '"aborted" and "ended" ran');
};

both_modes 'a command past its timeout is killed, the next one runs' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => <<'CONF');
shutdown "slowcmd" { command = {"@D@/slowcmd.sh"} timeout = 1s }
shutdown "after" { command = {"@D@/mark.sh", "after"} }
CONF
	$t->script('mark.sh', $MARK);
	$t->sleeper('slownap');
	$t->script('slowcmd.sh', <<'SH');
echo $$ > "$D/slow.pid"
date +%s.%N > "$D/slow.start"
"$D/slownap" 1000 &
wait
SH
	my $prog = $t->script('prog.sh',
	    "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	ok($t->wait_lines('slow.pid', T(5)), 'slow command started');
	ok($t->wait_lines('marks', T(5)), 'the next command ran');
	my $took = Time::HiRes::time()
	    - (slurp_or_undef($t->path('slow.start')) // 0);
	ok($took >= 0.9 && $took < T(3.5), 'after the 1 s timeout')
	    or diag(sprintf '%.3f s', $took);
	is_deeply([$t->procs($t->path('slownap'))], [],
	    'its process group was killed');
	$t->outcome(T(5));
	ok(scalar(grep { /slowcmd/ && /time/i } $t->log_lines),
	    'the log says it timed out')
	    or diag(join "\n", $t->log_lines);
};

# The environment each entry of /proc/PID/environ of the program gave, as
# the program wrote it (its NUL-separated entries, in order).
my $PROGENV = <<'SH';
cat /proc/$$/environ > "$D/prog.env"
printf 'Content-Type: text/plain\r\n\r\nok\n'
SH

sub entries {
	my ($t, $name) = @_;
	return split /\0/, slurp($t->path($name));
}

# The status variables cgiwrap adds for a shutdown command.
my $STATUS_VAR = qr/^CGIWRAP_(?:STATUS|STATUS_NAME|EXIT_CODE|EXIT_STATUS|PID|TARGET|ELAPSED_MS|BYTES_IN|BYTES_OUT|HTTP_STATUS|CPU_USER_MS|CPU_SYS_MS|MAX_RSS_KB|PROCS)\z/;

# R-SHUT-3 as cgiwrap.conf(5) says it: the program's environment, with
# env_set and env_unset applied, less CGIWRAP_CONTROL_FD, plus the status.
both_modes 'a command sees the program\'s environment (env_set, env_unset)' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => <<'CONF');
script "*/envprog.sh" {
    env_set = {"GREETING=hello", "HTTP_X_SET=config"}
    env_unset = {"HTTP_X_GONE"}
}
CONF
	my $prog = $t->script('envprog.sh', $PROGENV);
	my $r = $t->run(mode => $mode, argv => [$prog], env => {
	    HTTP_X_SET => 'client', HTTP_X_GONE => 'secret',
	    HTTP_PROXY => 'http://evil:3128' });
	is($r->finish(T(5)), 0, 'front exits 0');
	my ($rec) = $t->outcome(T(5));
	my %prog = map { /^([^=]*)=(.*)\z/s ? ($1 => $2) : () }
	    entries($t, 'prog.env');
	ok(exists $prog{CGIWRAP_CONTROL_FD}, 'the program has its control fd');
	is($rec->{GREETING}, 'hello', 'env_set reaches the command');
	is($rec->{HTTP_X_SET}, 'config', 'env_set replaces the request\'s value');
	ok(!exists $rec->{HTTP_X_GONE}, 'env_unset applies');
	ok(!exists $rec->{HTTP_PROXY}, 'no HTTP_PROXY');
	ok(!exists $rec->{CGIWRAP_CONTROL_FD}, 'no CGIWRAP_CONTROL_FD');
	is($rec->{CGIWRAP_STATUS}, '0', 'the status variables are there');
	delete $prog{CGIWRAP_CONTROL_FD};
	my %cmd = map { ($_ => $rec->{$_}) }
	    grep { !/$STATUS_VAR/ && $_ ne 'PWD' && $_ ne 'SHLVL' && $_ ne '_' }
	    keys %$rec;
	is_deeply(\%cmd, \%prog, 'otherwise the program\'s environment, '
	    . 'exactly');
};

both_modes 'a command sees the script variables of handler mode' => sub {
	my ($mode) = @_;
	my $t = Harness->new(extra => "roots = {\"\@D\@\"}\n"
	    . "alias_roots = {\"\@D\@\"}\n");
	$t->script('hprog.sh', $PROGENV);
	my $r = $t->run(mode => $mode, cmd => [$Harness::CGIWRAP, '-c', $t->conf],
	    env => { SCRIPT_NAME => '/legacy', PATH_INFO => '/hprog.sh/more',
	    SCRIPT_FILENAME => $Harness::CGIWRAP, DOCUMENT_ROOT => '/srv' });
	is($r->finish(T(5)), 0, 'front exits 0') or diag($r->stderr);
	my ($rec) = $t->outcome(T(5));
	my %prog = map { /^([^=]*)=(.*)\z/s ? ($1 => $2) : () }
	    entries($t, 'prog.env');
	is($prog{SCRIPT_NAME}, '/legacy/hprog.sh', 'the program\'s SCRIPT_NAME');
	for my $v (qw(SCRIPT_NAME SCRIPT_FILENAME PATH_INFO PATH_TRANSLATED)) {
		is($rec->{$v}, $prog{$v}, "the command's $v is the program's");
	}
	is($rec->{PATH_TRANSLATED}, '/srv/more', 'PATH_TRANSLATED');
};

done_testing;
