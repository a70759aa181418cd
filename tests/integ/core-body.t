#!/usr/bin/perl
# Integration: the request body.  Exactly CONTENT_LENGTH bytes (or to EOF
# when unset) reach the child; a child that never reads stdin hangs
# nothing; output and body flow at the same time.  In socket mode the
# harness half-closes after the body, as mod_cgid: that is the end of the
# body, not a hangup.  SPEC R-IO-4, R-IO-1, R-STAT-2, R-SHUT-3.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Digest::SHA qw(sha256_hex);
use Test::More;
use Harness;

Harness::require_binary();

my $SIZE = 16 << 20;

my %POST = (REQUEST_METHOD => 'POST',
    CONTENT_TYPE => 'application/octet-stream');

both_modes '16 MiB request body relayed exactly' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my ($data, $sum) = $t->random_file('body', $SIZE);
	my $prog = $t->script('sum.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
sha256sum | cut -c1-64
SH
	my $r = $t->run(mode => $mode, argv => [$prog], body_file => $data,
	    env => { %POST, CONTENT_LENGTH => $SIZE });
	is($r->finish(T(20)), 0, 'front exits 0');
	is($r->body_written, $SIZE, 'the harness wrote the whole body');
	is($r->stdout, "Content-Type: text/plain\r\n\r\n$sum\n",
	    'the child read exactly the body (SHA-256)');
	my ($rec, $log) = $t->ended({ STATUS => 0, BYTES_IN => $SIZE,
	    EXIT_STATUS => 0 },
	    { in => $SIZE, status => 'NORMAL' });
};

both_modes 'no more than CONTENT_LENGTH bytes' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('count.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
wc -c | tr -d ' '
SH
	my $r = $t->run(mode => $mode, argv => [$prog],
	    body => ('a' x 600) . ('b' x 400),
	    env => { %POST, CONTENT_LENGTH => 600 });
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, "Content-Type: text/plain\r\n\r\n600\n",
	    'the child read 600 bytes, then EOF');
	my ($rec) = $t->ended({ STATUS => 0, BYTES_IN => 600 });
};

both_modes 'without CONTENT_LENGTH: the body to EOF' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('count.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
wc -c | tr -d ' '
SH
	my $r = $t->run(mode => $mode, argv => [$prog], body => 'c' x 100000,
	    env => { %POST });
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, "Content-Type: text/plain\r\n\r\n100000\n",
	    'the child read the whole body, then EOF');
	my ($rec) = $t->ended({ STATUS => 0, BYTES_IN => 100000 });
};

both_modes 'a child that never reads stdin hangs nothing' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my ($data) = $t->random_file('body', $SIZE);
	my $prog = $t->script('deaf.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'Content-Type: text/plain\r\n\r\nnot reading\n'
exit 0
SH
	my $r = $t->run(mode => $mode, argv => [$prog], body_file => $data,
	    env => { %POST, CONTENT_LENGTH => $SIZE });
	is($r->finish(T(5)), 0, 'front exits 0, in bounded time');
	is($r->stdout, "Content-Type: text/plain\r\n\r\nnot reading\n",
	    'the response arrived');
	my ($rec, $log) = $t->ended({ STATUS => 0, EXIT_CODE => 'exited',
	    EXIT_STATUS => 0 },
	    { status => 'NORMAL' });
};

both_modes 'child writes 1 MiB before reading the body: no deadlock' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my ($data, $sum) = $t->random_file('body', 4 << 20);
	$t->write_file('first', 'f' x (1 << 20));
	my $prog = $t->script('talk.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
cat "$D/first"
echo
sha256sum | cut -c1-64
SH
	my $r = $t->run(mode => $mode, argv => [$prog], body_file => $data,
	    env => { %POST, CONTENT_LENGTH => 4 << 20 });
	is($r->finish(T(10)), 0, 'front exits 0');
	my (undef, $body) = $r->response;
	is(length($body // ''), (1 << 20) + 1 + 65, 'all output arrived');
	is(substr($body // '', -65), "$sum\n", 'and the body reached the child');
	my ($rec) = $t->ended({ STATUS => 0, BYTES_IN => 4 << 20 });
};

done_testing;
