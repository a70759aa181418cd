#!/usr/bin/perl
# Integration: the child crashes (SIGSEGV).  SPEC R-SHUT-1, R-SHUT-3
# (EXIT_CODE dumped or killed, EXIT_STATUS=SEGV), R-IO-5, section 9.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

both_modes 'crash after the header: response passes, EXIT_STATUS=SEGV' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('crash.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\npartial\n'
kill -SEGV $$
echo survived > "$D/survived"
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 128 + 11, 'front exits 128+SIGSEGV');
	is($r->stdout, "Content-Type: text/plain\r\n\r\npartial\n",
	    'what the child wrote arrived');
	my $cpid = $t->read_pidfile('child.pid');
	my ($rec, $log) = $t->ended({
		STATUS => 0, EXIT_CODE => ['dumped', 'killed'],
		EXIT_STATUS => 'SEGV', PID => $cpid, HTTP_STATUS => 200,
	},
	    { exit => qr/^(dumped|killed):SEGV\z/,
	    status => 'NORMAL', pid => $cpid });
};

both_modes 'crash before any output: no output, EXIT_STATUS=SEGV' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('crash.sh', <<'SH');
echo $$ > "$D/child.pid"
kill -SEGV $$
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 128 + 11, 'front exits 128+SIGSEGV');
	is($r->stdout, '', 'no answer of cgiwrap\'s own: the server\'s');
	my ($rec, $log) = $t->ended({ EXIT_CODE => ['dumped', 'killed'],
	    EXIT_STATUS => 'SEGV' },
	    { exit => qr/^(dumped|killed):SEGV\z/,
	    error => qr/./ });
};

done_testing;
