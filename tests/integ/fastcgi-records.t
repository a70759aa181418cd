#!/usr/bin/perl
# The records before a FastCGI request (issue "Hardening", item 2), on a
# unix and on a TCP socket, cgiwrap -f -w 2, written straight to the
# socket:
#  - FCGI_GET_VALUES is answered with FCGI_GET_VALUES_RESULT for the pool:
#    FCGI_MAX_CONNS and FCGI_MAX_REQS are the number of workers,
#    FCGI_MPXS_CONNS 0 (libfcgi says 1 and 1 for any pool); a name it does
#    not know is left out; a request on the same connection is served;
#  - another management record type gets FCGI_UNKNOWN_TYPE;
#  - a request of the AUTHORIZER, FILTER or an unknown role gets
#    FCGI_END_REQUEST with protocolStatus FCGI_UNKNOWN_ROLE, nothing on
#    FCGI_STDOUT, the program does not run, and the log has one line
#    naming the role (libfcgi runs an authorizer or a filter as a
#    responder, and closes on an unknown role without a word);
# and after each, no worker died.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Socket qw(SHUT_WR);
use Harness qw(T);
use Server qw(slurp wait_for);
use Nginx qw(:all);

use constant { FCGI_GET_VALUES => 9, FCGI_GET_VALUES_RESULT => 10,
    FCGI_UNKNOWN_TYPE => 11, FCGI_UNKNOWN_ROLE => 3 };

my $CGIWRAP = cgiwrap_behind_nginx();

# Send BYTES on a new connection, half-close unless it holds a request
# (cgiwrap would take that for the server gone), read the answer.
sub exchange {
	my ($addr, $bytes, %o) = @_;
	my $s = fcgi_connect($addr, T(5))
	    or return { connect_error => "$!", stdout => '' };
	fcgi_write($s, $bytes);
	shutdown($s, SHUT_WR) unless $o{request};
	my $r = fcgi_read($s, T(10));
	close $s;
	return $r;
}

sub params {
	my ($fx, $id) = @_;
	return fcgi_pairs(fcgi_cgi_params($fx, 'hello', $id));
}

sub run_kind {
	my ($kind) = @_;
	my $fx = fcgi_fixture(tag => "fastcgi-records-$kind");
	my ($cw, $addr, @pool) = pool_started($kind, bin => $CGIWRAP,
	    conf => $fx->{conf}, dir => $fx->{var},
	    tag => $kind);
	return unless $cw;

	# FCGI_GET_VALUES, then a request on the same connection.
	my $r = exchange($addr, fcgi_record(FCGI_GET_VALUES, 0,
	    fcgi_pairs(FCGI_MAX_CONNS => '', FCGI_MAX_REQS => '',
	    FCGI_MPXS_CONNS => '', X_UNKNOWN => '')) . fcgi_begin(1)
	    . fcgi_params(1, params($fx, "values-$kind")) . fcgi_stdin(1, ''),
	    request => 1);
	my @res = grep { $_->[0] == FCGI_GET_VALUES_RESULT }
	    @{ $r->{records} // [] };
	is(scalar @res, 1, "$kind: FCGI_GET_VALUES: one FCGI_GET_VALUES_RESULT")
	    or diag(fcgi_describe($r));
	is($res[0][1] // -1, 0, "$kind: FCGI_GET_VALUES_RESULT: request id 0");
	my %v = fcgi_unpairs($res[0][2] // '');
	is_deeply(\%v, { FCGI_MAX_CONNS => 2, FCGI_MAX_REQS => 2,
	    FCGI_MPXS_CONNS => 0 }, "$kind: FCGI_GET_VALUES_RESULT: 2 "
	    . 'connections, 2 requests (the workers), no multiplexing; the '
	    . 'unknown name left out');
	ok($r->{end} && $r->{stdout} =~ /\r\n\r\nhello from cgiwrap\n\z/,
	    "$kind: FCGI_GET_VALUES: then a request on the connection is "
	    . 'served') or diag(fcgi_describe($r));

	$r = exchange($addr, fcgi_record(12, 0, 'what?'));
	my @unk = grep { $_->[0] == FCGI_UNKNOWN_TYPE } @{ $r->{records} // [] };
	is(scalar @unk, 1, "$kind: management type 12: FCGI_UNKNOWN_TYPE")
	    or diag(fcgi_describe($r));
	is(unpack('C', $unk[0][2] // "\xff"), 12, "$kind: FCGI_UNKNOWN_TYPE "
	    . 'names type 12');

	# Roles other than RESPONDER.
	my %name = (2 => 'AUTHORIZER', 3 => 'FILTER', 77 => '77');
	for my $role (2, 3, 77) {
		my $what = "$kind: role $name{$role}";
		my $id = "role-$role-$kind";
		$r = exchange($addr, fcgi_begin(5, $role)
		    . fcgi_params(5, params($fx, $id)) . fcgi_stdin(5, ''));
		ok($r->{end}, "$what: FCGI_END_REQUEST")
		    or diag(fcgi_describe($r));
		is($r->{protocol_status} // -1, FCGI_UNKNOWN_ROLE,
		    "$what: protocolStatus FCGI_UNKNOWN_ROLE");
		is($r->{stdout}, '', "$what: nothing on FCGI_STDOUT");
		ok($r->{eof} || $r->{end}, "$what: the connection ends");
		my $lines;
		ok(wait_for(sub {
			$lines = () = (slurp($fx->{log}) // '') =~
			    /^\S+Z role=\Q$name{$role}\E .*refused/mg;
			return $lines;
		}, T(5)), "$what: a log line names the role");
		is($lines, 1, "$what: one log line");
		ok(!wait_record($fx, $id, T(1)), "$what: the program did not run");
	}
	my @now = $cw->wait_workers(2, T(10));
	is("@now", "@pool", "$kind: no worker died")
	    or diag($cw->out);
	ok($cw->stop, "$kind: nothing of cgiwrap left")
	    or diag($cw->stop_problem);
	ok(no_scripts_left($fx, T(10)), "$kind: no process of the programs "
	    . 'left') or diag(show_pids(script_pids($fx)));
}

run_kind($_) for qw(unix tcp);
done_testing;
