#!/usr/bin/perl
# A worker's connection ends with its response (issue "Speed"), on a unix
# and on a TCP socket, cgiwrap -f -w 1, written straight to the socket.
# libfcgi's own close waits for the server to close first, reading and
# dropping whatever it sends, up to 2 s after each read: a server that
# holds its end open after FCGI_END_REQUEST (and writes on it) held the
# worker.  Here the server writes a byte on its first connection every
# 0.3 s after the response, and the one worker must serve a second
# connection meanwhile; the first response arrived whole.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Select;
use Time::HiRes qw(time);
use Harness qw(T);
use Nginx qw(:all);

my $CGIWRAP = cgiwrap_behind_nginx();

sub request {
	my ($fx, $id) = @_;
	return fcgi_begin(1) . fcgi_params(1,
	    fcgi_pairs(fcgi_cgi_params($fx, 'hello', $id))) . fcgi_stdin(1, '');
}

sub run_kind {
	my ($kind) = @_;
	my $fx = fcgi_fixture(tag => "fastcgi-linger-$kind");
	my $cw = eval { cgiwrap_start(socket => $kind, workers => 1,
	    bin => $CGIWRAP, conf => $fx->{conf}, dir => $fx->{var},
	    tag => $kind) };
	ok($cw, "$kind: cgiwrap -f -w 1 answers") or return diag($@);

	my $first = fcgi_connect($cw->socket, T(5));
	ok($first && fcgi_write($first, request($fx, "first-$kind")),
	    "$kind: first request sent") or return;
	my $r = fcgi_read($first, T(10));
	ok($r->{end} && $r->{stdout} =~ /\r\n\r\nhello from cgiwrap\n\z/,
	    "$kind: first response whole, FCGI_END_REQUEST")
	    or diag(fcgi_describe($r));

	my $second = fcgi_connect($cw->socket, T(5));
	ok($second && fcgi_write($second, request($fx, "second-$kind")),
	    "$kind: second request sent") or return;
	my $sel = IO::Select->new($second);
	my ($deadline, $bytes, $answered) = (time + T(10), 0, 0);
	until (($answered = $sel->can_read(T(0.3))) || time > $deadline) {
		fcgi_write($first, 'x');
		$bytes++;
	}
	$r = fcgi_read($second, T(10));
	ok($answered && $r->{end} &&
	    $r->{stdout} =~ /\r\n\r\nhello from cgiwrap\n\z/,
	    "$kind: second request served while the first connection is "
	    . "held open ($bytes bytes written on it meanwhile)")
	    or diag(fcgi_describe($r));
	close $first;
	close $second;
	ok(wait_record($fx, "second-$kind", T(10)),
	    "$kind: the second request's shutdown command ran");
	ok($cw->stop, "$kind: nothing of cgiwrap left")
	    or diag($cw->stop_problem);
}

run_kind($_) for qw(unix tcp);
done_testing();
