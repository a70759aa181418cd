#!/usr/bin/perl
# cgiwrap in handler mode behind real servers (issue 3; SPEC R-TGT-2,
# R-TGT-4), configured from the snippets in etc/ (instantiated, so the
# documented configs are the tested ones):
#   Apache 2.4 prefork + mod_cgi and event + mod_cgid:
#     Action       etc/apache-action.conf       /cgi-bin/NAME.cgi
#     ScriptAlias  etc/apache-scriptalias.conf  /legacy/NAME.cgi
#     shim         etc/apache-shim.cgi          /shim/dump.cgi (explicit mode)
#   lighttpd 1.4 mod_cgi:
#     cgi.assign   etc/lighttpd.conf            /cgi-bin/NAME.cgi
#
# Transparency.  One script, dump.cgi, prints its environment, $0, argv
# and working directory.  It is requested twice with the same URL (path
# info and a query string), once run by the server directly and once
# through cgiwrap, and the two dumps are compared:
#   - Apache: two ports, both IP-based virtual hosts of one server; the
#     "direct" one maps /cgi-bin/ and /legacy/ with a plain ScriptAlias to
#     the scripts' directory, the other includes the two snippets.  Both
#     requests carry the same Host header (dump.test:8000), so HTTP_HOST,
#     SERVER_NAME and SERVER_PORT (UseCanonicalName Off: from the Host
#     header) are the same on both ports.
#   - lighttpd: one port; a request header X-Direct: 1 selects
#     cgi.assign = (".cgi" => "") (run directly) after the snippet.
#   Every request carries X-Direct (1 or 0), so HTTP_X_DIRECT differs.
#   Compared exactly: every variable of @SAME plus $0, argv and the working
#   directory; then the whole environment, where only the names in
#   %MAY_DIFFER may differ (each with its reason), and no REDIRECT_*
#   variable may appear through cgiwrap that the direct run lacks.
#   The direct dump is also checked against the URL (so that two equally
#   wrong dumps cannot pass), and the one through cgiwrap must come with a
#   cgiwrap shutdown record naming dump.cgi as the target.
# R-TGT-4: ?-c+/tmp/x+--+/bin/sh, and a variant naming a real config and
#   program that would leave marker files, run only dump.cgi, which gets
#   the words as argv exactly as when run directly (Apache passes ISINDEX
#   words as argv; lighttpd passes none, and that is compared too).  Also
#   ?--+PROGRAM+long followed by 4100 empty words: Apache passes only the
#   first 4095 words; still only dump.cgi runs, with the direct run's argv.
#   ?--+PROGRAM+WORD with a 1100-byte WORD: the same.  lighttpd: a query
#   naming the script's own SCRIPT_FILENAME (lighttpd's one argument) must
#   not be taken for an ISINDEX word of argv.  The shim: a query of its
#   own arguments (-c CONF -- TARGET) repeated 1025 times, which Apache
#   (LimitRequestLine raised) cuts to its first 4094 words, so that the shim's argv
#   is the query's first words: still the shim's target under the shim's
#   config, with those words as argv.
# ErrorDocument (Apache): dump.cgi as the 404 document of both virtual
#   hosts; a missing page gives the same dump (REDIRECT_STATUS=404,
#   REDIRECT_URL, ... of the failed request) directly and through the
#   Action handler.
# Abort and timeout through every handler mode of every server: the client
#   leaves (curl --max-time 1) a script writing every 100 ms -> shutdown
#   record with status 1; a script that never answers, with
#   max_execution_time = 1s -> 504 and status 2; in both cases no process
#   of the script is left.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(abs_path);
use Time::HiRes qw(time);
use Server qw(:all write_file parse_env run_cgi);
use Harness qw(T);

my $CGIWRAP = cgiwrap_behind_servers(servers => [qw(apache lighttpd)]);
my $ETC = abs_path("$FindBin::Bin/../../etc");
my $HOST = 'dump.test:8000';

# Variables a legacy script uses, which must be what the server would
# have given it (R-TGT-2 and the issue's list).
my @SAME = qw(SCRIPT_NAME SCRIPT_FILENAME PATH_INFO PATH_TRANSLATED
    REQUEST_URI QUERY_STRING REQUEST_METHOD SERVER_NAME SERVER_PORT
    REMOTE_ADDR HTTP_HOST DOCUMENT_ROOT GATEWAY_INTERFACE SERVER_PROTOCOL
    SERVER_SOFTWARE SERVER_ADDR CONTENT_LENGTH CONTENT_TYPE);
# Variables that may differ between the two runs, and why.
my %MAY_DIFFER = (
	REMOTE_PORT => 'a new client connection each time',
	HTTP_X_DIRECT => 'the test header that selects the direct run',
	CGIWRAP_CONFIG => 'set for cgiwrap by the snippet (SetEnv/setenv); '
	    . 'R-ENV-1 passes it on',
	CGIWRAP_CONTROL_FD => 'the script control descriptor (R-CTL-2), '
	    . 'cgiwrap\'s only addition',
	CONTEXT_PREFIX => 'Apache: the prefix of the alias that matched '
	    . '(/cgiwrap-bin/ or /legacy instead of /cgi-bin/ or /legacy/)',
	CONTEXT_DOCUMENT_ROOT => 'Apache: the directory of that alias',
);

# ---------------------------------------------------------------------------
# The tree: $t/legacy holds the scripts (the `roots`), $t/wrapbin the
# cgiwrap binary, $t/rec the shutdown records, $t/var the log.

my ($t, $conf, $log) = cgiwrap_tree('handler',
    dirs => [qw(legacy wrapbin bin rec var conf shim mark)], www => ['mark'],
    root => 'legacy', conf => sub { <<"EOF" });
alias_roots = {"$_[0]/legacy"}
script "*/slow.cgi" {
    max_execution_time = 1s
}
EOF
my $WRAP = wrapbin($CGIWRAP, $t);
symlink('/bin/sleep', "$t/bin/snooze") or die "symlink: $!";
write_file("$t/legacy/dump.cgi", 0755, <<'EOF');
#!/usr/bin/perl
# Prints what a CGI program sees: $0, argv, working directory, environment.
use Cwd qw(getcwd);
sub esc { my $s = shift; $s =~ s/([\\\n\r])/sprintf('\x%02x', ord $1)/ge; $s }
print "Content-Type: text/plain\r\n\r\n";
print "SELF=", esc($0), "\n";
print "ARGC=", scalar(@ARGV), "\n";
print "ARGV", $_ + 1, "=", esc($ARGV[$_]), "\n" for 0 .. $#ARGV;
print "CWD=", esc(getcwd()), "\n";
print "ENV:$_=", esc($ENV{$_}), "\n" for sort keys %ENV;
EOF
write_file("$t/legacy/tick.cgi", 0755, <<"EOF");
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
i=0
while [ \$i -lt 300 ]; do
	echo "tick \$i"
	$t/bin/snooze 0.1
	i=\$((i + 1))
done
EOF
write_file("$t/legacy/slow.cgi", 0755, <<"EOF");
#!/bin/sh
# Never answers; its section gives it max_execution_time = 1s.
exec $t/bin/snooze 30
EOF
# R-TGT-4: what a request could name if ISINDEX words became options.
write_file("$t/evil.conf", 0644, <<"EOF");
roots = {"/"}
log = "$t/var/evil.log"
shutdown "evil" {
    command = {"$t/bin/evil.sh", "shutdown"}
}
EOF
write_file("$t/bin/evil.sh", 0755, <<"EOF");
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\nevil\\n'
touch "$t/mark/evil.\$(printf '%.16s' "\${1:-ran}")"
EOF

my %snip = (CGIWRAP => $WRAP, CGIWRAP_DIR => "$t/wrapbin", CONF => $conf,
    ROOT => "$t/legacy");
handler_snippets($t, %snip);
write_file("$t/shim/dump.cgi", 0755, instantiate("$ETC/apache-shim.cgi",
    %snip, TARGET => "$t/legacy/dump.cgi"));

# ---------------------------------------------------------------------------
# Helpers

sub failures { scalar grep { !$_ } Test::More->builder->summary }

sub records {
	opendir(my $dh, "$t/rec") or return ();
	return sort grep { !/^\./ } readdir $dh;
}

my %seen;	# shutdown records already looked at

# The shutdown record of the request whose QUERY_STRING is ID (waited for).
sub wait_record {
	my ($id, $timeout) = @_;
	my $found;
	wait_for(sub {
		for my $r (grep { !$seen{$_} } records()) {
			my $e = parse_env(slurp("$t/rec/$r"));
			next unless ($e->{QUERY_STRING} // '') eq $id;
			$seen{$r} = 1;
			$found = $e;
			return 1;
		}
		return 0;
	}, $timeout);
	return $found;
}

# Parse a dump: { SELF, ARGC, ARGV1.., CWD, env => {...} }.
sub parse_dump {
	my ($body) = @_;
	my %d = (env => {});
	for (split /\n/, $body // '') {
		if (/^ENV:([A-Za-z_][A-Za-z0-9_]*)=(.*)\z/) {
			$d{env}{$1} = $2;
		} elsif (/^([A-Z]+[0-9]*)=(.*)\z/) {
			$d{$1} = $2;
		}
	}
	return \%d;
}

sub argv_of {
	my ($d) = @_;
	return [map { $d->{"ARGV$_"} } 1 .. ($d->{ARGC} // 0)];
}

sub get {
	my ($srv, $port, $path, $direct, %o) = @_;
	return curl_get($srv->url($path, $port), max_time => $o{max_time} // 10,
	    args => ['-H', "Host: $HOST", '-H', "X-Direct: $direct"]);
}

# Processes of the test scripts (not cgiwrap, not the server).
sub script_pids {
	return grep { (proc_exe($_) // '') ne $WRAP }
	    pids_matching(qr{\Q$t\E/(?:legacy/(?:tick|slow)\.cgi|bin/snooze)});
}

sub show_pids {
	return join("\n", map { "  $_: " . (proc_cmdline($_) // '(gone)') } @_);
}

sub dump_logs {
	my ($srv, $what) = @_;
	diag("---- $what failed; server error log:\n" . $srv->error_log);
	diag("---- cgiwrap log:\n" . slurp($log));
}

# Compare the dumps of one URL, run directly and through cgiwrap.
sub transparency {
	my ($srv, $name, $dport, $wport, $path, $query, $sn) = @_;
	my $f0 = failures();
	my $full = "$path/extra/path?$query";
	my $rd = get($srv, $dport, $full, 1);
	my $rw = get($srv, $wport, $full, 0);
	my $url = length $full > 80 ? substr($full, 0, 80) . '...' : $full;
	is($rd->{code}, 200, "$name: $url run directly: 200")
	    or diag("curl exit $rd->{rc}: $rd->{err}\n$rd->{body}");
	is($rw->{code}, 200, "$name: $url through cgiwrap: 200")
	    or diag("curl exit $rw->{rc}: $rw->{err}\n$rw->{body}");
	my ($d, $w) = (parse_dump($rd->{body}), parse_dump($rw->{body}));
	my ($de, $we) = ($d->{env}, $w->{env});

	# The direct run is what the URL says (the reference is sound) ...
	is($de->{SCRIPT_NAME}, $sn, "$name: direct SCRIPT_NAME is $sn");
	is($de->{PATH_INFO}, '/extra/path', "$name: direct PATH_INFO");
	is($de->{QUERY_STRING}, $query, "$name: direct QUERY_STRING");
	is($de->{REQUEST_URI}, $full, "$name: direct REQUEST_URI");
	is($de->{SCRIPT_FILENAME}, "$t/legacy/dump.cgi",
	    "$name: direct SCRIPT_FILENAME");
	ok(!exists $de->{CGIWRAP_CONTROL_FD},
	    "$name: the direct run did not go through cgiwrap");
	# ... and the other one went through cgiwrap, running dump.cgi.
	my $rec = wait_record($query, T(4));
	ok($rec, "$name: $url through cgiwrap left a shutdown record");
	is($rec && $rec->{CGIWRAP_TARGET}, "$t/legacy/dump.cgi",
	    "$name: cgiwrap ran $t/legacy/dump.cgi");

	my @differ = grep { ($de->{$_} // "\0undef") ne ($we->{$_} // "\0undef") }
	    @SAME;
	is("@differ", '', "$name: the same through cgiwrap: @SAME")
	    or diag(join '', map { "  $_: direct " . ($de->{$_} // '(unset)')
	    . ", cgiwrap " . ($we->{$_} // '(unset)') . "\n" } @differ);
	is($w->{SELF}, $d->{SELF}, "$name: \$0 is the same");
	is_deeply(argv_of($w), argv_of($d), "$name: argv is the same");
	is($w->{CWD}, $d->{CWD}, "$name: working directory is the same");
	my @diff = grep { !$MAY_DIFFER{$_} && ($de->{$_} // "\0undef")
	    ne ($we->{$_} // "\0undef") } sort keys %{{ %$de, %$we }};
	is("@diff", '', "$name: no other variable differs")
	    or diag(join '', map { "  $_: direct "
	    . ($de->{$_} // '(unset)') . ", cgiwrap "
	    . ($we->{$_} // '(unset)') . "\n" } @diff);
	my @redirect = grep { /^REDIRECT_/ && !exists $de->{$_} } keys %$we;
	is("@redirect", '', "$name: no REDIRECT_* variable of the "
	    . 'indirection reaches the script');
	dump_logs($srv, "$name $url") if failures() > $f0;
	return ($d, $w);
}

# R-TGT-4 through cgiwrap: WORDS as an ISINDEX query; only dump.cgi runs.
sub isindex {
	my ($srv, $name, $dport, $wport, $path, $words, $server_passes) = @_;
	my $f0 = failures();
	my $q = join('+', @$words);
	my ($d, $w) = transparency($srv, "$name ISINDEX", $dport, $wport,
	    $path, $q, $path);
	my $shown = length $q > 60 ? substr($q, 0, 60) . '...' : $q;
	is_deeply(argv_of($w), $server_passes ? $words : [],
	    "$name: ?$shown gives dump.cgi the argv words "
	    . ($server_passes ? "@$words" : '(none: the server passes none)'))
	    if $server_passes != 2;
	is($w->{SELF}, "$t/legacy/dump.cgi", "$name: ?$shown ran dump.cgi");
	my @marks = glob("$t/mark/*");
	is("@marks", '', "$name: ?$shown ran nothing else (no marker file)");
	unlink glob("$t/mark/*");
	ok(!-e "$t/var/evil.log", "$name: ?$shown: no config named by the "
	    . 'query was used');
	dump_logs($srv, "$name ?$shown") if failures() > $f0;
}

# The client leaves a ticking script; a silent one hits its time limit.
sub abort_and_timeout {
	my ($srv, $name, $port, $prefix) = @_;
	my $f0 = failures();
	my $id = "id=abort-$name";
	$id =~ s/[^\w=-]/_/g;
	my $r = get($srv, $port, "$prefix/tick.cgi?$id", 0, max_time => 1);
	is($r->{rc}, 28, "$name: tick.cgi: the client left after 1 s")
	    or diag("curl exit $r->{rc} code $r->{code}: $r->{err}");
	like($r->{body}, qr/\Atick 0\n/, "$name: tick.cgi: output was streamed");
	my $rec = wait_record($id, T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '1', "$name: tick.cgi: shutdown command "
	    . 'ran with CGIWRAP_STATUS=1');
	is($rec->{CGIWRAP_STATUS_NAME}, 'ABORTED',
	    "$name: tick.cgi: CGIWRAP_STATUS_NAME=ABORTED");
	is($rec->{CGIWRAP_TARGET}, "$t/legacy/tick.cgi",
	    "$name: tick.cgi: CGIWRAP_TARGET");
	ok(wait_for(sub { !script_pids() }, T(5)),
	    "$name: tick.cgi: nothing of the script is left")
	    or diag("left:\n" . show_pids(script_pids()));

	($id = "id=timeout-$name") =~ s/[^\w=-]/_/g;
	my $t0 = time;
	$r = get($srv, $port, "$prefix/slow.cgi?$id", 0, max_time => T(10));
	is($r->{code}, 504, "$name: slow.cgi: 504 after its time limit")
	    or diag("curl exit $r->{rc}: $r->{err}");
	cmp_ok($r->{elapsed}, '<', T(5), "$name: slow.cgi: answered in "
	    . sprintf('%.2f s', $r->{elapsed}));
	$rec = wait_record($id, T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '2', "$name: slow.cgi: shutdown command "
	    . 'ran with CGIWRAP_STATUS=2');
	is($rec->{CGIWRAP_STATUS_NAME}, 'TIMEOUT',
	    "$name: slow.cgi: CGIWRAP_STATUS_NAME=TIMEOUT");
	ok(wait_for(sub { !script_pids() }, T(5)),
	    "$name: slow.cgi: nothing of the script is left")
	    or diag("left:\n" . show_pids(script_pids()));
	dump_logs($srv, "$name abort/timeout") if failures() > $f0;
}

sub stop_server {
	my ($srv, $name) = @_;
	ok($srv->stop, "$name: server stopped cleanly") or diag($srv->stop_problem);
	ok(wait_for(sub { !pids_matching(qr/\Q$t\E/) }, T(5)),
	    "$name: no process of the test is left")
	    or diag("left:\n" . show_pids(pids_matching(qr/\Q$t\E/)));
	kill 'KILL', pids_matching(qr/\Q$t\E/);
}

my @WORDS = ('-c', '/tmp/x', '--', '/bin/sh');
my @EVIL = ('-c', "$t/evil.conf", '--', "$t/bin/evil.sh");
# More words than Apache passes: it gives a CGI program only the first
# APACHE_ARG_MAX - 1 = 4095 (_POSIX_ARG_MAX - 1); the rest is dropped.
# The argv must still be the direct run's, and no word an option.
my @LONG = ('--', "$t/bin/evil.sh", 'long', ('') x 4100);
# A word longer than 1 KiB (Apache's request line allows 8190 bytes).
my @LONGWORD = ('--', "$t/bin/evil.sh", 'w' x 1100);
# lighttpd passes no words, but its one argument is SCRIPT_FILENAME: a
# query that names it is not a word of argv either.
my @SELFNAME = ("$t/legacy/dump.cgi");

# ---------------------------------------------------------------------------
# Apache

sub apache_case {
	my ($mpm, $cgi) = @_;
	my $name = "apache $mpm+$cgi";
	my $srv = eval {
		apache_start(mpm => $mpm, cgi => $cgi, dir => "$t/apache-$mpm",
		    extra_ports => 1, conf => sub {
			my ($direct, $wrapped) = @_;
			return <<"EOF";
# Room for the shim's arguments repeated past Apache's word limit.
LimitRequestLine 1000000
# Run directly (the reference).
<VirtualHost 127.0.0.1:$direct>
    ErrorDocument 404 /cgi-bin/dump.cgi
    ScriptAlias /cgi-bin/ "$t/legacy/"
    ScriptAlias /legacy/ "$t/legacy/"
    ScriptAlias /shim/ "$t/shim/"
    <Directory "$t/legacy">
        Require all granted
    </Directory>
    <Directory "$t/shim">
        Require all granted
    </Directory>
</VirtualHost>
# Through cgiwrap, from the snippets of etc/.
<VirtualHost 127.0.0.1:$wrapped>
    ErrorDocument 404 /cgi-bin/dump.cgi
    Include "$t/conf/apache-action.conf"
    Include "$t/conf/apache-scriptalias.conf"
</VirtualHost>
EOF
		    });
	};
	unless (ok($srv, "$name: Apache started")) {
		diag($@);
		return;
	}
	my ($dport, $wport) = $srv->ports;
	note("$name: direct on port $dport, through cgiwrap on $wport; "
	    . "files in $t");

	for my $m (['Action', '/cgi-bin/dump.cgi'],
	    ['ScriptAlias', '/legacy/dump.cgi']) {
		my ($mode, $path) = @$m;
		transparency($srv, "$name $mode", $dport, $wport, $path,
		    "a=1&b=2&mode=$mode", $path);
		isindex($srv, "$name $mode", $dport, $wport, $path, \@WORDS, 1);
		isindex($srv, "$name $mode", $dport, $wport, $path, \@EVIL, 1);
		isindex($srv, "$name $mode", $dport, $wport, $path, \@LONG, 2);
		isindex($srv, "$name $mode", $dport, $wport, $path, \@LONGWORD,
		    1);
	}

	# The one-line shim (explicit mode) in place of the script: the
	# request's variables pass unchanged; the shim's name is the
	# script's, as the server ran the shim.
	my $f0 = failures();
	my $url = '/shim/dump.cgi/extra/path?a=1&shim=1';
	my $r = get($srv, $dport, $url, 1);
	is($r->{code}, 200, "$name shim: 200");
	my $s = parse_dump($r->{body});
	is($s->{SELF}, "$t/legacy/dump.cgi", "$name shim: runs the program");
	is($s->{env}{SCRIPT_NAME}, '/shim/dump.cgi', "$name shim: SCRIPT_NAME");
	is($s->{env}{PATH_INFO}, '/extra/path', "$name shim: PATH_INFO");
	is($s->{env}{QUERY_STRING}, 'a=1&shim=1', "$name shim: QUERY_STRING");
	is($s->{env}{REQUEST_URI}, $url, "$name shim: REQUEST_URI");
	ok(exists $s->{env}{CGIWRAP_CONTROL_FD}, "$name shim: through cgiwrap");
	$r = get($srv, $dport, '/shim/dump.cgi?-c+/tmp/x+--+/bin/sh', 1);
	is_deeply(argv_of(parse_dump($r->{body})), \@WORDS,
	    "$name shim: ISINDEX words reach the program as argv");
	# The shim's own arguments as the query, more times than Apache
	# passes words: argv (the shim's four, then the words Apache kept)
	# is then the first words of the query.  Still the shim's target,
	# with the shim's config, whose shutdown command records it.
	my @own = ('-c', $conf, '--', "$t/legacy/dump.cgi");
	my @hostile = (@own) x 1025;
	my $q = join('+', @hostile);
	$r = get($srv, $dport, "/shim/dump.cgi?$q", 1);
	is($r->{code}, 200, "$name shim: ?(its own arguments) x 1025: 200");
	my $d = parse_dump($r->{body});
	is($d->{SELF}, "$t/legacy/dump.cgi",
	    "$name shim: ?(its own arguments) x 1025 ran the shim's target");
	my $argv = argv_of($d);
	ok(@$argv > 4000 && @$argv < @hostile, "$name shim: with the "
	    . scalar(@$argv) . ' words Apache kept, not all ' . @hostile);
	is_deeply($argv, [@hostile[0 .. $#$argv]],
	    "$name shim: which are the query's first words");
	my $rec = wait_record($q, T(10)) // {};
	is($rec->{CGIWRAP_TARGET}, "$t/legacy/dump.cgi",
	    "$name shim: under the shim's config (its shutdown command ran)");
	dump_logs($srv, "$name shim") if failures() > $f0;

	# A legacy script as the ErrorDocument: it reads the REDIRECT_*
	# variables of the request that failed, which Apache gives it when it
	# runs it directly; through the Action handler those of the failed
	# request must still be there (only the handler's own level goes).
	$f0 = failures();
	my $miss = '/no/such/page?q=1';
	my $rd = get($srv, $dport, $miss, 1);
	my $rw = get($srv, $wport, $miss, 0);
	is($rd->{code}, 404, "$name ErrorDocument: direct 404");
	is($rw->{code}, 404, "$name ErrorDocument: through cgiwrap 404");
	my ($de, $we) = (parse_dump($rd->{body})->{env},
	    parse_dump($rw->{body})->{env});
	is($de->{REDIRECT_STATUS}, '404', "$name ErrorDocument: direct "
	    . 'REDIRECT_STATUS=404 (the reference is sound)');
	ok(exists $we->{CGIWRAP_CONTROL_FD}, "$name ErrorDocument: through "
	    . 'cgiwrap');
	my @d = grep { !$MAY_DIFFER{$_} && ($de->{$_} // "\0undef")
	    ne ($we->{$_} // "\0undef") } sort keys %{{ %$de, %$we }};
	is("@d", '', "$name ErrorDocument: the same variables, REDIRECT_* "
	    . 'of the failed request included')
	    or diag(join '', map { "  $_: direct " . ($de->{$_} // '(unset)')
	    . ", cgiwrap " . ($we->{$_} // '(unset)') . "\n" } @d);
	dump_logs($srv, "$name ErrorDocument") if failures() > $f0;

	# Only Apache's own redirect may start the Action handler.
	$r = get($srv, $wport, '/cgiwrap-bin/cgiwrap/cgi-bin/dump.cgi', 0);
	is($r->{code}, 403, "$name: /cgiwrap-bin/ asked for directly: 403");

	abort_and_timeout($srv, "$name Action", $wport, '/cgi-bin');
	abort_and_timeout($srv, "$name ScriptAlias", $wport, '/legacy');
	stop_server($srv, $name);
}

# ---------------------------------------------------------------------------
# lighttpd

sub lighttpd_case {
	my $name = 'lighttpd';
	my $srv = eval {
		lighttpd_start(dir => "$t/lighttpd", conf => <<"EOF");
include "$t/conf/lighttpd.conf"
# The reference: the same URL run by lighttpd directly.
\$REQUEST_HEADER["X-Direct"] == "1" {
    cgi.assign = ( ".cgi" => "" )
}
EOF
	};
	unless (ok($srv, "$name: lighttpd started")) {
		diag($@);
		return;
	}
	my $port = $srv->port;
	note("$name on port $port; files in $t");
	transparency($srv, "$name cgi.assign", $port, $port, '/cgi-bin/dump.cgi',
	    'a=1&b=2&mode=assign', '/cgi-bin/dump.cgi');
	isindex($srv, "$name cgi.assign", $port, $port, '/cgi-bin/dump.cgi',
	    \@WORDS, 0);
	isindex($srv, "$name cgi.assign", $port, $port, '/cgi-bin/dump.cgi',
	    \@EVIL, 0);
	isindex($srv, "$name cgi.assign", $port, $port, '/cgi-bin/dump.cgi',
	    \@LONG, 0);
	isindex($srv, "$name cgi.assign", $port, $port, '/cgi-bin/dump.cgi',
	    \@SELFNAME, 0);
	abort_and_timeout($srv, "$name cgi.assign", $port, '/cgi-bin');
	stop_server($srv, $name);
}

my $t0 = time;
apache_case('prefork', 'mod_cgi');
apache_case('event', 'mod_cgid');
lighttpd_case();
note(sprintf('handler.t took %.1f s', time - $t0));
done_testing;
