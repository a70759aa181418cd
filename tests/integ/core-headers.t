#!/usr/bin/perl
# Integration: the response header block.  Faults (no output, garbage, a
# block over max_header_size) are the server's to judge: the program's
# bytes pass untouched, the output ends as the program ends it, and only
# the log line says why; good blocks pass byte-exact, however they
# arrive; nph- passes untouched.
# SPEC R-IO-1, R-IO-5, R-LOG-1, R-SHUT-3.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

# Check that run R passed the child's output OUT untouched (at least its
# first MIN bytes, when defined: the child may be stopped at the fault),
# with no answer of cgiwrap's own, that the front exited (with EXIT, when
# defined), that nothing was said on stderr (the server's script log
# holds what the program said, as when the server runs it) and that the
# log line gives the reason.
sub check_passed {
	my ($t, $r, $exit, $out, $min) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $ev = $r->finish(T(5));
	if (defined $exit) {
		is($ev, $exit, "front exits $exit (the child's status)");
	} else {
		ok(defined $ev, 'front exits');
	}
	my $got = $r->stdout;
	if (defined $min) {
		ok(length $got >= $min && $got eq substr($out, 0, length $got),
		    "the child's first bytes passed untouched ("
		    . length($got) . ')') or diag("stdout: $got");
	} else {
		is($got, $out, "the child's output passed untouched");
	}
	unlike($got, qr/Status: 502/, 'no answer of cgiwrap\'s own');
	is($r->stderr, '', 'nothing on stderr');
	my ($rec, $log) = $t->ended(undef, { error => qr/./, status => 'NORMAL' });
	return ($rec, $log);
}

both_modes 'no output at all: none passes' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('mute.sh', "exit 3\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	my ($rec, $log) = check_passed($t, $r, 3, '');
	check_fields($rec, { STATUS => 0, EXIT_CODE => 'exited',
	    EXIT_STATUS => 3, HTTP_STATUS => '' }, 'CGIWRAP_');
	# Its output ended with its exit: nothing to stop, and said so.
	check_fields($log, { error => 'exited before a complete header',
	    signals => '-' });
};

both_modes 'garbage instead of headers: passed untouched' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('garbage.sh', <<'SH');
printf 'hello world\nthis is no header\n\nbody\n'
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	# cgiwrap may stop the child at the fault: its status is not checked.
	my ($rec) = check_passed($t, $r, undef,
	    "hello world\nthis is no header\n\nbody\n", 18);
	check_fields($rec, { HTTP_STATUS => '' }, 'CGIWRAP_');
};

both_modes 'a control header, then a malformed line: passed untouched' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $out = "CGIWrap-Time-Limit: 5s\r\nContent-Type: text/plain\r\n"
	    . ": bar\r\n\r\nbody\n";
	$t->write_file('resp', $out);
	my $prog = $t->script('ctlbad.sh', "cat \"\$D/resp\"\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	# The control header is not cut out of a block the server rejects.
	check_passed($t, $r, undef, $out, length $out);
};

both_modes 'headers then exit before the blank line: passed untouched' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('cut.sh', <<'SH');
printf 'Content-Type: text/plain\r\nX-Unfinished: yes\r\n'
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	check_passed($t, $r, 0,
	    "Content-Type: text/plain\r\nX-Unfinished: yes\r\n");
};

# 64 lines of 104 bytes: 6656 bytes of header block.
my $BIG = join('', map { sprintf "X-Pad-%02d: %s\r\n", $_, 'a' x 92 } 1 .. 64);

both_modes 'header block over max_header_size: passed untouched' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_header_size => 1024 });
	$t->write_file('resp', "Content-Type: text/plain\r\n$BIG\r\nbody\n");
	my $prog = $t->script('big.sh', "cat \"\$D/resp\"\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	# What happens to the child after the fault is not specified: its
	# exit status is not checked.
	check_passed($t, $r, undef,
	    "Content-Type: text/plain\r\n$BIG\r\nbody\n", 1024);
};

both_modes 'header block over max_header_size, never ended' => sub {
	my ($mode) = @_;
	# The limit ends the child if cgiwrap leaves it running after the
	# fault.
	my $t = Harness->new(conf => { max_header_size => 1024,
	    max_execution_time => '2s' });
	$t->write_file('resp', "Content-Type: text/plain\r\n$BIG");
	$t->sleeper('nap');
	# The block never ends and the child does not exit by itself.
	my $prog = $t->script('endless.sh', <<'SH');
cat "$D/resp"
"$D/nap" 1000 &
wait
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok(defined $r->finish(T(8)), 'front exits') or diag($t->ps);
	my $out = "Content-Type: text/plain\r\n$BIG";
	ok(length $r->stdout >= 1024 &&
	    $r->stdout eq substr($out, 0, length $r->stdout),
	    'the child\'s first bytes passed untouched');
	# Stopped at the fault, not by the limit.
	my ($rec, $log) = $t->ended(undef, { error => qr/./,
	    status => 'NORMAL' });
};

both_modes 'header block just under max_header_size passes' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { max_header_size => 1024 });
	my $out = "Content-Type: text/plain\r\n"
	    . join('', map { sprintf "X-Pad-%02d: %s\r\n", $_, 'b' x 92 } 1 .. 8)
	    . "\r\nbody\n";
	$t->write_file('resp', $out);
	my $prog = $t->script('fits.sh', "cat \"\$D/resp\"\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, $out, 'passed byte-exact (' . length($out) . ' bytes)');
	my ($rec, $log) = $t->outcome(T(5));
	ok(!exists $log->{error}, 'no error in the log');
	check_fields($log, { http => 200 });
};

both_modes 'header block arriving in pieces passes byte-exact' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $prog = $t->script('drip.sh', <<'SH');
printf 'Content-Type: te'
sleep 0.05
printf 'xt/plain\r'
sleep 0.05
printf '\nStatus: 201 Created\r\n'
sleep 0.05
printf '\r'
sleep 0.05
printf '\nbody\n'
SH
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, "Content-Type: text/plain\r\nStatus: 201 Created\r\n\r\nbody\n",
	    'stdout is exactly what the child wrote');
	my ($rec, $log) = $t->ended({ HTTP_STATUS => 201 },
	    { http => 201 });
};

both_modes 'nph- program: output passes untouched' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $out = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    . "Connection: close\r\n\r\nraw\n";
	$t->write_file('resp', $out);
	my $prog = $t->script('nph-raw.sh', "cat \"\$D/resp\"\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	is($r->stdout, $out, 'stdout is exactly what the child wrote');
	my ($rec, $log) = $t->outcome(T(5));
	ok(!exists $log->{error}, 'no error in the log');
	check_fields($rec, { STATUS => 0 }, 'CGIWRAP_');
};

# The record of an nph- response: the final status line's code (after any
# interim 1xx responses) and the bytes after the header block, while the
# output passes untouched.
my %NPH = (
	'404' => ["HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
	    . "Content-Length: 10\r\n\r\n", "not found\n", 404],
	'interim 1xx, then 201' => ["HTTP/1.1 100 Continue\r\n\r\n"
	    . "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
	    . "HTTP/1.1 201 Created\nContent-Type: text/plain\n\n",
	    "made\r\n\r\nHTTP/1.1 500 in the body\r\n\r\n", 201],
);

for my $what (sort keys %NPH) {
	both_modes "nph- program ($what): status and body length recorded" => sub {
		my ($mode) = @_;
		my ($head, $body, $code) = @{ $NPH{$what} };
		my $t = Harness->new;
		$t->write_file('resp', $head . $body);
		my $prog = $t->script('nph-st.sh', "cat \"\$D/resp\"\n");
		my $r = $t->run(mode => $mode, argv => [$prog]);
		is($r->finish(T(5)), 0, 'front exits 0');
		is($r->stdout, $head . $body,
		    'stdout is exactly what the child wrote');
		my ($rec, $log) = $t->ended({ STATUS => 0, HTTP_STATUS => $code,
		    BYTES_OUT => length $body },
		    { http => $code, out => length $body });
		ok(!exists $log->{error}, 'no error in the log');
	};
}

both_modes 'nph- program with a large body: its length recorded' => sub {
	my ($mode) = @_;
	my $t = Harness->new;
	my $head = "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n";
	$t->write_file('head', $head);
	my ($body, $sum) = $t->random_file('body', 3 << 20);
	my $prog = $t->script('nph-big.sh', "cat \"\$D/head\" \"\$D/body\"\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(10)), 0, 'front exits 0');
	my $out = $r->stdout;
	is(substr($out, 0, length $head), $head, 'the head untouched');
	is(Digest::SHA::sha256_hex(substr($out, length $head)), $sum,
	    'the body untouched');
	my ($rec, $log) = $t->ended({ HTTP_STATUS => 200, BYTES_OUT => 3 << 20 },
	    { http => 200, out => 3 << 20 });
};

# Without a complete head there is no status to tell nor a body to
# count: every byte is counted, as before the head was read at all.  (A
# head is looked for in the first max_header_size bytes only.)
my %NPH_HEADLESS = (
	'header block never ends' =>
	    ["HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Cut: "],
	'no status line' => ["Content-Type: text/plain\r\n\r\nnot HTTP\n"],
	'head over max_header_size' => ["HTTP/1.1 200 OK\r\nX-Pad: "
	    . ('p' x 100) . "\r\n\r\nbody\n", { max_header_size => 64 }],
);

for my $what (sort keys %NPH_HEADLESS) {
	both_modes "nph- program ($what): no status, every byte counted" => sub {
		my ($mode) = @_;
		my ($out, $conf) = @{ $NPH_HEADLESS{$what} };
		my $t = Harness->new(conf => $conf);
		$t->write_file('resp', $out);
		my $prog = $t->script('nph-cut.sh', "cat \"\$D/resp\"\n");
		my $r = $t->run(mode => $mode, argv => [$prog]);
		is($r->finish(T(5)), 0, 'front exits 0');
		is($r->stdout, $out, 'stdout is exactly what the child wrote');
		my ($rec, $log) = $t->ended({ STATUS => 0, HTTP_STATUS => '',
		    BYTES_OUT => length $out },
		    { http => '-', out => length $out });
	};
}

done_testing;
