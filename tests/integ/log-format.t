#!/usr/bin/perl
# Integration: the log lines of both log_format values, parsed back.  The
# harness plays the server and hands over hostile bytes (every byte but
# NUL) in REQUEST_METHOD, REQUEST_URI, REMOTE_ADDR and a header that a
# shutdown command prints into the log; the program sends a hostile
# control line.  Every line must be printable ASCII, start with the time,
# parse whole, and give back the exact bytes; no field or line is forged.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(realpath);
use Test::More;
use Harness;

Harness::require_binary();

my $TIME = qr/\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/;
my @ORDER = qw(time method uri remote target status exit elapsed_ms in out
    http signals pid cpu_user_ms cpu_sys_ms max_rss_kb procs);

my %HOSTILE = (
	REQUEST_METHOD => "GE\"T x=1 \\\x7f\xff",
	REQUEST_URI => join('', map { chr } 1 .. 255) . ' status=FAKE',
	REMOTE_ADDR => "- status=FAKE\r\n2025Z pid=1 \"}",
	HTTP_X_EVIL => "\"}, {\"status\":\"FAKE\" \\u0041 \e[31m \r\x85"
	    . "\xe2\x80\xa8 note=x",
);

# The keys of a raw line, in their order: in JSON every quote of a value
# is escaped, so each "name": is a key; in kv, once the quoted values are
# emptied, each " name=".
sub keys_of {
	my ($line) = @_;
	return $line =~ /"(\w+)":/g if $line =~ /^\{/;
	$line =~ s/"(?:[^"\\]|\\x[0-9a-f]{2})*"/""/g;
	return ('time', $line =~ / (\w+)=/g);
}

sub harness {
	my ($fmt) = @_;
	my $t = Harness->new(conf => { log_format => "\"$fmt\"" },
	    extra => "shutdown \"echo\" { command = {\"\@D\@/echo.sh\"} }\n");
	$t->script('echo.sh', "printf '%s\\n' \"\$HTTP_X_EVIL\"\n");
	return $t;
}

for my $fmt (qw(kv json)) {
	both_modes "log_format $fmt: hostile bytes come back exact" => sub {
		my ($mode) = @_;
		my $t = harness($fmt);
		my $prog = $t->script('p.sh', <<'SH');
echo $$ > "$D/child.pid"
printf 'bad\033"} x=1\n' >&"$CGIWRAP_CONTROL_FD"
printf 'Content-Type: text/plain\r\n\r\nhi\n'
SH
		my $r = $t->run(mode => $mode, argv => [$prog],
		    env => { %HOSTILE });
		$r->finish(T(10));
		my $cpid = $t->read_pidfile('child.pid');
		my (undef, $log) = $t->ended({ STATUS => 0 },
		    { status => 'NORMAL', pid => $cpid,
		    target => realpath($prog), http => 200 });
		ok(wait_for(sub { grep { /X|FAKE/ } $t->log_lines }, T(5)),
		    'the shutdown command\'s line is there');
		my @lines = $t->log_lines;
		is(scalar(@lines), 3, 'three lines: the request, a control '
		    . 'note, the shutdown output') or diag(join "\n", @lines);
		for my $l (@lines) {
			like($l, qr/\A[\x20-\x7e]+\z/, 'printable ASCII only');
			my $h = parse_log_line($l);
			ok($h, "$fmt: the line parses whole") or diag($l);
			like($h->{time} // '', $TIME, 'it starts with the time');
			ok($fmt eq 'json' ? $l =~ /^\{"time":"/ : $l =~ /^\S+Z /,
			    'the time comes first');
			isnt($h->{status} // '', 'FAKE', 'no forged status');
		}
		is($log->{$_}, $HOSTILE{ {method => 'REQUEST_METHOD',
		    uri => 'REQUEST_URI', remote => 'REMOTE_ADDR'}->{$_} },
		    "$_: the exact bytes") for qw(method uri remote);
		is_deeply([keys_of($log->{_line})], \@ORDER,
		    'the keys in their order');
		is(ref $log->{signals}, 'ARRAY', 'signals: an array')
		    if $fmt eq 'json';
		my @notes = grep { $_ && defined $_->{note} }
		    map { parse_log_line($_) } @lines;
		my ($out) = grep { defined $_->{shutdown} } @notes;
		is($out && $out->{note}, $HOSTILE{HTTP_X_EVIL},
		    'the shutdown command\'s output: the exact bytes');
		my ($ctl) = grep { !defined $_->{shutdown} } @notes;
		like($ctl && $ctl->{note}, qr/bad\e"\} x=1/,
		    'the control note: the exact bytes');
	};

	both_modes "log_format $fmt: what the server did not give, a URI "
	    . "too long" => sub {
		my ($mode) = @_;
		my $t = harness($fmt);
		my $prog = $t->script('p.sh', "echo \$\$ > \"\$D/child.pid\"\n");
		my $r = $t->run(mode => $mode, argv => [$prog],
		    env => { REQUEST_METHOD => '-', REMOTE_ADDR => undef,
		    REQUEST_URI => '/' . ("\x01" x 5000) });
		$r->finish(T(10));
		my (undef, $log) = $t->ended({ STATUS => 0 }, {
		    method => '-', status => 'NORMAL' });
		my $l = $log->{_line} // '';
		my ($field) = $l =~ /([ ,]"?uri"?[=:]"[^"]*")/;
		my $n = length($log->{uri} // '');
		ok($n > 300 && $log->{uri} eq '/' . ("\x01" x ($n - 1)) &&
		    length($field // '') <= 2048, 'the URI cut to 2048 bytes '
		    . 'as written, and the line goes on');
		is($log->{pid}, $t->read_pidfile('child.pid'), 'to the pid');
		if ($fmt eq 'kv') {
			like($l, qr/ method="-" uri="\/[^"]+" remote=- /,
			    'a value "-" quoted, an unknown one bare');
			like($l, qr/ http=- signals=- /, 'no header: http=-');
		} else {
			ok(!exists $log->{$_}, "no $_") for qw(remote http);
			is_deeply($log->{signals}, [], 'signals: []');
		}
	};
}

done_testing();
