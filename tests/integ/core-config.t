#!/usr/bin/perl
# Integration: the config at request time.  A broken config gives a 500,
# one "cgiwrap:" line on stderr naming the file and the line, and the
# program is not run; script sections apply to the matching target.
# SPEC R-CFG-1, R-CFG-2, R-IO-6, R-LOG-2, section 9 (exit 125).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

my $PROG = <<'SH';
echo ran > "$D/ran"
printf 'Content-Type: text/plain\r\n\r\nran\n'
SH

# The program must not run; 500 on stdout; a cgiwrap: line naming
# FILE (and LINE when given) on stderr; exit 125; no shutdown command.
sub check_refused {
	my ($t, $r, $file, $line) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	is($r->finish(T(5)), 125, 'front exits 125');
	my ($head) = $r->response;
	ok(defined $head, 'a complete CGI header block')
	    or diag('stdout: ' . $r->stdout);
	like($head // '', qr/^Status: 500\b/m, 'Status: 500');
	ok(!-e $t->path('ran'), 'the program did not run');
	my @err = grep { /^cgiwrap:/ } split /\n/, $r->stderr;
	ok(@err >= 1, 'a cgiwrap: line on stderr') or diag('stderr: ' . $r->stderr);
	my $want = defined $line ? qr/\Q$file\E:$line\b/ : qr/\Q$file\E/;
	ok(scalar(grep { $_ =~ $want } @err),
	    'it names the file' . (defined $line ? ' and the line' : ''))
	    or diag('stderr: ' . $r->stderr);
	unlike($r->stderr, qr/^(?!cgiwrap:).+/m, 'only cgiwrap: lines on stderr');
	ok($t->wait_quiet(T(3)), 'nothing of the request left running');
	ok(!-e $t->path('ran'), 'the program did not run later either');
	is($t->rec_count, 0, 'no shutdown command of a broken config ran');
}

# A config that is the harness's own plus one bad line at its end.
sub broken {
	my ($bad) = @_;
	my $t = Harness->new(conf_text => '');
	my $text = $t->base_conf;
	my $line = 1 + ($text =~ tr/\n//);
	$t->write_file('cgiwrap.conf', "$text$bad\n", 0644);
	return ($t, $line);
}

my %BAD = (
	'unknown option'  => 'no_such_option = 1',
	'bad duration'    => 'max_execution_time = "5 parsecs"',
	'unknown signal'  => 'kill_signal = "NOSUCHSIG"',
	'unknown orphans' => 'orphans = "adopt"',
	'negative limit'  => 'limit_nofile = -1',
);

for my $what (sort keys %BAD) {
	both_modes "broken config ($what): 500, file and line named" => sub {
		my ($mode) = @_;
		my ($t, $line) = broken($BAD{$what});
		my $prog = $t->script('prog.sh', $PROG);
		my $r = $t->run(mode => $mode, argv => [$prog]);
		check_refused($t, $r, $t->conf, $line);
	};
}

# libconfuse 3.3 itself counts a "#" or "//" comment line as three lines
# in its FILE:LINE messages; the line named must still be the right one.
both_modes 'broken config after comment lines: the right line named' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf_text => '');
	my $text = "# cgiwrap test config\n// another comment\n"
	    . "log = \"" . $t->path('log') . "\"  # trailing comment\n"
	    . "/* block\n   comment */\n"
	    . "no_such_option = 1\n";
	$t->write_file('cgiwrap.conf', $text, 0644);
	my $prog = $t->script('prog.sh', $PROG);
	my $r = $t->run(mode => $mode, argv => [$prog]);
	check_refused($t, $r, $t->conf, 6);
};

# cgiwrap -t on TEXT: exit 1 and stderr exactly the lines "cgiwrap:
# FILE:" . WANT, in order.
sub t_lists {
	my ($what, $text, @want) = @_;
	my $t = Harness->new(conf_text => '');
	$t->write_file('cgiwrap.conf', $text, 0644);
	my $r = $t->run(cmd => [$Harness::CGIWRAP, '-t', '-c', $t->conf],
	    env => { GATEWAY_INTERFACE => undef, QUERY_STRING => undef });
	is($r->finish(T(5)), 1, "-t, $what: exit 1");
	my $conf = $t->conf;
	is($r->stderr, join('', map { "cgiwrap: $conf:$_\n" } @want),
	    "-t, $what: FILE:LINE: OPTION: reason");
	is($r->stdout, '', "-t, $what: nothing on stdout");
}

t_lists('duplicate script title', <<'CONF',
script "/a/*" { kill_grace = 1s }
script "/a/*" { kill_grace = 2s }
CONF
    "2: script: found duplicate title '/a/*'");
t_lists('key = = value', "kill_grace = 1s\nkill_grace = = 2s\n",
    "2: kill_grace: unexpected token '='");
t_lists('bad glob of a section', <<'CONF',
script "/srv/cgi/[ab.cgi"
{
    env_unset = {}
}
CONF
    "1: script: bad glob \"/srv/cgi/[ab.cgi\": unbalanced '['");
t_lists('two bad values', <<'CONF',
kill_grace = 1s
max_execution_time = "5 parsecs"
script "/srv/cgi/*" {
    kill_signal = NOSUCHSIG
}
CONF
    "2: max_execution_time: bad duration '5 parsecs'",
    "4: kill_signal: unknown signal 'NOSUCHSIG'");

for my $perm (0664, 0646) {
	my $who = $perm == 0664 ? 'group' : 'others';
	both_modes "config writable by $who is refused" => sub {
		my ($mode) = @_;
		my $t = Harness->new(conf_mode => $perm);
		my $prog = $t->script('prog.sh', $PROG);
		my $r = $t->run(mode => $mode, argv => [$prog]);
		check_refused($t, $r, $t->conf);
	};
}

both_modes 'missing config named by -c: 500' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('prog.sh', $PROG);
	my $missing = $t->path('no-such.conf');
	my $r = $t->run(mode => $mode,
	    cmd => [$Harness::CGIWRAP, '-c', $missing, '--', $prog]);
	check_refused($t, $r, $missing);
};

# Global limit 20 s; the first matching section gives 1 s, a later one
# that also matches would give 10 s.
my %SECTIONS = (conf => { max_execution_time => '20s' }, extra => <<'CONF');
script "*/slow-*" {
    max_execution_time = 1s
}
script "*slow*" {
    max_execution_time = 10s
}
CONF

both_modes 'script section: first match in file order applies' => sub {
	my ($mode) = @_;
	my $t = Harness->new(%SECTIONS);
	$t->sleeper('nap');
	my $prog = $t->script('slow-one.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(6)), 124, 'timed out (exit 124)');
	my $took = ($r->exit_time // 0) - $r->started;
	ok($took < T(5), 'after the section\'s 1 s')
	    or diag(sprintf 'front exited after %.3f s', $took);
	my ($rec) = $t->ended({ STATUS => 2 });
};

both_modes 'script section: other targets keep the global level' => sub {
	my ($mode) = @_;
	my $t = Harness->new(%SECTIONS);
	my $prog = $t->script('other.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
sleep 1.5
echo ok
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(6)), 0, 'ran its 1.5 s (exit 0)');
	is($r->stdout, "Content-Type: text/plain\r\n\r\nok\n", 'response');
	my ($rec) = $t->ended({ STATUS => 0, EXIT_STATUS => 0 });
};

done_testing;
