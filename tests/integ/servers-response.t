#!/usr/bin/perl
# What the client receives is what the server gives for the program run
# directly (issue 10), for responses cgiwrap does not judge, through every
# deployment way of every server:
#   Apache 2.4 prefork + mod_cgi and event + mod_cgid: the Action and the
#     ScriptAlias snippets of etc/ on one port, the same URLs served with
#     a plain ScriptAlias on another (the reference), with the same Host;
#   lighttpd: cgi.assign of etc/lighttpd.conf, the reference selected by
#     the request header X-Direct: 1 (cgi.assign = ( ".cgi" => "" ));
#   nginx: etc/nginx.conf to `cgiwrap -f` on one port, the same block to
#     fcgiwrap (spawn-fcgi) on another (the reference; where fcgiwrap
#     answers a program itself, with its own 502 text, only the status
#     is compared).
# Broken programs (item 3): no output at all, an exit before the header
# block ends, and malformed headers (": bar", a NUL byte, a control byte,
# a line without a colon): the status and the body (the server's own
# error page) must be the reference's, and cgiwrap's log line says why
# (error=...).  Apache's ScriptLog entry is the reference's too.
# A complete response is not an abort (item 6): a HEAD request to a
# program that writes a body for half a second, and a GET of a program
# that sends all its Content-Length bytes, then works on and writes more:
# the client gets what the direct run gives, and through cgiwrap the
# request ends NORMAL with the program run to its end (its marker file).
# stderr after the response ended (item 8): a program closes its output,
# then writes a line to stderr; under mod_cgid it reaches the server's
# error log directly and through cgiwrap.  lighttpd sends SIGTERM to a
# program it runs directly that is still there when the response ended,
# so the line is lost there; through cgiwrap the program runs on (the
# supervisor decides) and its line must reach lighttpd's error log.
# Finish early (item 7): a program that closes its output, or writes
# `finish` to its control descriptor, then waits for the test to release
# it, its stderr still open: the client has the whole response while it
# waits, under every server (mod_cgi waited for the end of the error
# pipe), and the program then ends NORMAL.
# nph- programs (item 4): an interim 103 response, then a 203 with its
# headers and body: the client gets the same bytes as from the direct run
# (Apache: the ScriptAlias way through the nph-cgiwrap entry of its
# snippet).  Where the server ran cgiwrap by its own name and parses a
# CGI header block (Apache's Action, whose nph- handlers get a response
# of Apache's appended; FastCGI), the status, the headers and the body
# are the direct run's, the interim response dropped (cgiwrap.8).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Server qw(:all write_file);
use Nginx qw(nginx_with_reference);
use Harness qw(T parse_log_line);

my $CGIWRAP = cgiwrap_behind_servers(servers => [qw(apache lighttpd)]);
my $HOST = 'resp.test:8000';

my ($t, $conf, $log) = cgiwrap_tree('servers-response',
    dirs => [qw(legacy wrapbin rec var conf nginx mark)], www => ['mark'],
    root => 'legacy', conf => sub { qq{alias_roots = {"$_[0]/legacy"}\n} });
my $WRAP = wrapbin($CGIWRAP, $t);
handler_snippets($t, CGIWRAP => $WRAP, CGIWRAP_DIR => "$t/wrapbin",
    CONF => $conf, ROOT => "$t/legacy");

# name => the program's output (printf(1) format), then exit.
my %BROKEN = (
	'nohdr' => '',
	'cut' => 'Content-Type: text/plain\r\nX-Cut: yes\r\n',
	'colon' => 'Content-Type: text/plain\r\n: bar\r\n\r\nbody\n',
	'nul' => 'Content-Type: text/plain\r\nX-Nul: a\000b\r\n\r\nbody\n',
	'ctl' => 'Content-Type: text/plain\r\nX-Ctl: a\001b\r\n\r\nbody\n',
	'nocolon' => 'Content-Type: text/plain\r\nno colon here\r\n\r\nbody\n',
);
for my $n (sort keys %BROKEN) {
	write_file("$t/legacy/$n.cgi", 0755,
	    "#!/bin/sh\nprintf '$BROKEN{$n}'\n");
}

# The body goes on after the header for 0.5 s (HEAD), or after all the
# Content-Length bytes; then the program leaves a marker named by its
# query string.
write_file("$t/legacy/head.cgi", 0755, <<"EOF");
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
for i in 1 2 3 4 5; do echo "line \$i"; sleep 0.1; done
touch "$t/mark/\$QUERY_STRING"
EOF
write_file("$t/legacy/length.cgi", 0755, <<"EOF");
#!/bin/sh
printf 'Content-Type: text/plain\\r\\nContent-Length: 6\\r\\n\\r\\nhello\\n'
sleep 0.5
echo 'more than promised'
touch "$t/mark/\$QUERY_STRING"
EOF
write_file("$t/legacy/late.cgi", 0755, <<"EOF");
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\nlate\\n'
exec >&-
sleep 0.3
echo "late stderr \$QUERY_STRING" >&2
EOF
for my $how (['early', 'exec >&-'],
    ['finish', 'echo finish >&"$CGIWRAP_CONTROL_FD"']) {
	write_file("$t/legacy/$how->[0].cgi", 0755, <<"EOF");
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n%s\\n' "\$QUERY_STRING"
$how->[1]
i=0
while [ ! -e "$t/mark/release-\$QUERY_STRING" ] && [ \$i -lt 1200 ]; do
	sleep 0.05
	i=\$((i + 1))
done
touch "$t/mark/done-\$QUERY_STRING"
EOF
}
write_file("$t/legacy/nph-raw.cgi", 0755, <<'EOF');
#!/bin/sh
printf 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n'
printf 'HTTP/1.1 203 Non-Authoritative Information\r\n'
printf 'Content-Type: text/plain\r\nX-Nph: yes\r\n\r\nnph body\n'
EOF

sub get {
	my ($srv, $port, $path, $direct, @args) = @_;
	return curl_get($srv->url($path, $port), max_time => T(10),
	    args => ['-H', "Host: $HOST", '-H', "X-Direct: $direct", @args]);
}

# The next log line for NAME.cgi, waited for.
my %logged;	# log lines of each name looked at
sub log_line {
	my ($name) = @_;
	my $line;
	wait_for(sub {
		my @l = grep { m{ target=\Q$t\E/legacy/\Q$name\E\.cgi } }
		    split /\n/, slurp($log);
		return 0 if @l <= ($logged{$name} //= 0);
		$line = $l[$logged{$name}++];
		return 1;
	}, T(10));
	return $line // '';
}

sub log_error {
	my ($line) = log_line(@_);
	return (parse_log_line($line) // {})->{error};
}

# HEAD, and a response complete by its Content-Length: the client gets
# what it gets directly; through cgiwrap no abort, the program finishes.
sub complete {
	my ($srv, $name, $dport, $wport, $prefix) = @_;
	(my $tag = "$name$prefix") =~ s/[^a-z0-9]+/-/g;
	for my $c (['head', ['-I']], ['length', []]) {
		my ($n, $args) = @$c;
		my $rd = get($srv, $dport, "$prefix/$n.cgi?d-$n-$tag", 1, @$args);
		my $rw = get($srv, $wport, "$prefix/$n.cgi?w-$n-$tag", 0, @$args);
		my @what = map { my $r = $_; join "\n", $r->{code},
		    $n eq 'head' ? grep { /^content-type:/i }
		    split /\r?\n/, $r->{body} : $r->{body} } $rd, $rw;
		like($what[0], qr/^200\n/, "$name $n: direct, 200");
		is($what[1], $what[0], "$name $n: through cgiwrap, the same");
		like(log_line($n), qr/ status=NORMAL /,
		    "$name $n: through cgiwrap, NORMAL");
		ok(wait_for(sub { -e "$t/mark/w-$n-$tag" }, T(5)),
		    "$name $n: the program ran to its end");
	}
}

# Each broken program through WAY (a path prefix on WPORT) and directly
# (on DPORT): the same status and body, and cgiwrap's log line says why.
sub broken {
	my ($srv, $name, $dport, $wport, $prefix) = @_;
	for my $n (sort keys %BROKEN) {
		my $rd = get($srv, $dport, "$prefix/$n.cgi", 1);
		my $rw = get($srv, $wport, "$prefix/$n.cgi", 0);
		like($rd->{code}, qr/^5\d\d\z/, "$name $n: direct, "
		    . "$rd->{code} (the reference is an error)")
		    if $n eq 'nohdr';
		if ($name eq 'lighttpd' && $n eq 'cut') {
			# lighttpd itself answers a header cut short with 500
			# when the end comes in a later read, else with 200
			# and the lines as the body: a race in the direct run.
			my $bytes = "Content-Type: text/plain\r\nX-Cut: yes\r\n";
			ok(($rw->{code} == 200 && $rw->{body} eq $bytes) ||
			    ($rw->{code} == 500 && $rw->{body} =~
			    m{<title>500 Internal Server Error</title>}),
			    "$name $n: through cgiwrap, one of lighttpd's "
			    . 'answers') or diag("$rw->{code}\n$rw->{body}");
		} elsif ($rd->{body} =~ /^An error occurred while reading CGI/) {
			is($rw->{code}, $rd->{code}, "$name $n: through "
			    . 'cgiwrap, the same status as fcgiwrap\'s');
		} else {
			is("$rw->{code}\n$rw->{body}",
			    "$rd->{code}\n$rd->{body}", "$name $n: through "
			    . "cgiwrap, the same status ($rd->{code}) and body");
		}
		like(log_error($n) // '', qr/header|colon/,
		    "$name $n: cgiwrap's log line says why");
	}
}

# A line on stderr after the response ended: in the error log.
sub late_stderr {
	my ($srv, $name, $dport, $wport, $prefix, $killed) = @_;
	(my $tag = "$name$prefix") =~ s/[^a-z0-9]+/-/g;
	for my $c ($killed ? () : [$dport, 1, 'direct'],
	    [$wport, 0, 'through cgiwrap']) {
		my ($port, $direct, $how) = @$c;
		my $r = get($srv, $port, "$prefix/late.cgi?$direct-$tag", $direct);
		is("$r->{code} $r->{body}", "200 late\n", "$name late stderr: "
		    . "$how, the response");
		ok(wait_for(sub { $srv->error_log =~
		    /late stderr $direct-$tag$/m }, T(5)), "$name late stderr: "
		    . "$how, in the error log");
	}
}

# The response is complete while the program still runs.
sub finish_early {
	my ($srv, $name, $port, $prefix) = @_;
	(my $tag = "$name$prefix") =~ s/[^a-z0-9]+/-/g;
	for my $n (qw(early finish)) {
		my $r = curl_get($srv->url("$prefix/$n.cgi?$n-$tag", $port),
		    max_time => T(5), args => ['-H', "Host: $HOST"]);
		# curl's exit status 0: the response ended (28: max_time).
		is("$r->{rc} $r->{code} $r->{body}", "0 200 $n-$tag\n",
		    "$name $n: the whole response, while the program waits")
		    or diag("curl: $r->{err}");
		ok(!-e "$t/mark/done-$n-$tag", "$name $n: ... and it waits");
		write_file("$t/mark/release-$n-$tag", 0644, '');
		like(log_line($n), qr/ status=NORMAL /, "$name $n: then NORMAL");
		ok(-e "$t/mark/done-$n-$tag", "$name $n: ... at its end");
	}
}

# An nph- program's bytes, with the status lines and headers (curl -i),
# but for what a server adds of its own (the date, and its framing:
# lighttpd gives a length when the end came with the bytes, else chunks).
sub nph {
	my ($srv, $name, $dport, $wport, $prefix) = @_;
	my ($rd, $rw) = map { get($srv, $_->[0], "$prefix/nph-raw.cgi", $_->[1],
	    '-i', '--http1.1') } [$dport, 1], [$wport, 0];
	like($rd->{body}, qr/^nph body$/m, "$name nph: direct, the body");
	my ($d, $w) = map { "$_->{code}\n" . ($_->{body} =~
	    s/^(?:Date|Content-Length|Transfer-Encoding):.*\n//mgir) } $rd, $rw;
	is($w, $d, "$name nph: through cgiwrap, the same bytes");
}

# The same through a server that parses a CGI header block: the final
# status, the program's headers (Apache orders them its own way) and the
# body of the direct run (DPORT; under nginx, whose fcgiwrap mangles it,
# what Apache's direct run gives).
sub nph_parsed {
	my ($srv, $name, $dport, $wport, $prefix) = @_;
	my $rw = get($srv, $wport, "$prefix/nph-raw.cgi", 0, '-i', '--http1.1');
	my $rd = defined $dport ? get($srv, $dport, "$prefix/nph-raw.cgi", 1,
	    '-i', '--http1.1') : { code => 203, body => "HTTP/1.1 203 x\r\n"
	    . "Content-Type: text/plain\r\nX-Nph: yes\r\n\r\nnph body\n" };
	my ($d, $w) = map { my ($head, $body) = $_->{body} =~
	    /\A(?:HTTP\/1\.1 1\d\d .*?\r\n\r\n)*(.*?\r\n\r\n)(.*)\z/s;
	    join("\n", $_->{code}, (sort grep { /^(?:X-Nph|Content-Type):/ }
	    split /\r\n/, $head // ''), $body // '') } $rd, $rw;
	like($d, qr/^203\n.*nph body\n\z/s, "$name nph: the reference");
	is($w, $d, "$name nph: through cgiwrap, the status, headers and body");
}

sub apache_case {
	my ($mpm, $cgi) = @_;
	my $name = "apache $mpm+$cgi";
	my $srv = apache_started("$name: Apache started", mpm => $mpm,
	    cgi => $cgi, dir => "$t/apache-$mpm", extra_ports => 1,
	    conf => sub {
		my ($direct, $wrapped) = @_;
		return <<"EOF";
ScriptLog "$t/var/script-$mpm.log"
<VirtualHost 127.0.0.1:$direct>
    ScriptAlias /cgi-bin/ "$t/legacy/"
    ScriptAlias /legacy/ "$t/legacy/"
    <Directory "$t/legacy">
        Require all granted
    </Directory>
</VirtualHost>
<VirtualHost 127.0.0.1:$wrapped>
    Include "$t/conf/apache-action.conf"
    Include "$t/conf/apache-scriptalias.conf"
</VirtualHost>
EOF
	    }) or return;
	chown_www("$t/var");
	my ($dport, $wport) = $srv->ports;
	broken($srv, "$name Action", $dport, $wport, '/cgi-bin');
	broken($srv, "$name ScriptAlias", $dport, $wport, '/legacy');
	complete($srv, "$name Action", $dport, $wport, '/cgi-bin');
	complete($srv, "$name ScriptAlias", $dport, $wport, '/legacy');
	nph($srv, "$name ScriptAlias", $dport, $wport, '/legacy');
	nph_parsed($srv, "$name Action", $dport, $wport, '/cgi-bin');
	finish_early($srv, "$name Action", $wport, '/cgi-bin');
	finish_early($srv, "$name ScriptAlias", $wport, '/legacy');
	if ($cgi eq 'mod_cgid') {
		late_stderr($srv, "$name Action", $dport, $wport, '/cgi-bin');
		late_stderr($srv, "$name ScriptAlias", $dport, $wport,
		    '/legacy');
	}

	# The ScriptLog entries of the last two requests for
	# /legacy/nohdr.cgi, direct then through the ScriptAlias way: the
	# same but for the date, the test's header and the path Apache ran
	# (cgiwrap, in that way).
	my @e = grep { m{^%% \[.*\] GET /legacy/nohdr\.cgi } }
	    split /^(?=%% \[)/m, slurp("$t/var/script-$mpm.log");
	ok(@e >= 2, "$name: ScriptLog entries, direct and through cgiwrap")
	    or push @e, ('') x 2;
	my ($d, $w) = map { s/^%% \[[^]]*\]/%% [DATE]/mgr
	    =~ s/^X-Direct: .*\n//mgr =~ s/^(%% \d+) \/.*$/$1 PATH/mgr }
	    @e[-2, -1];
	like($e[-2] // '', qr/^%% 500 \Q$t\E\/legacy\/nohdr\.cgi$/m,
	    "$name: a ScriptLog entry for the direct run");
	is($w, $d, "$name: the same entry through cgiwrap");
	$srv->stop;
}

sub lighttpd_case {
	my $srv = eval {
		lighttpd_start(dir => "$t/lighttpd", conf => <<"EOF");
include "$t/conf/lighttpd.conf"
\$REQUEST_HEADER["X-Direct"] == "1" {
    cgi.assign = ( ".cgi" => "" )
}
EOF
	};
	ok($srv, 'lighttpd started') or return diag($@);
	broken($srv, 'lighttpd', $srv->port, $srv->port, '/cgi-bin');
	complete($srv, 'lighttpd', $srv->port, $srv->port, '/cgi-bin');
	late_stderr($srv, 'lighttpd', $srv->port, $srv->port, '/cgi-bin', 1);
	finish_early($srv, 'lighttpd', $srv->port, '/cgi-bin');
	nph($srv, 'lighttpd', $srv->port, $srv->port, '/cgi-bin');
	$srv->stop;
}

sub nginx_case {
	my ($ng, $dport, $stop) = nginx_with_reference(dir => "$t/nginx",
	    conf => $conf, bin => $WRAP, root => "$t/legacy");
	if ($ng) {
		broken($ng, 'nginx', $dport, $ng->port, '/cgi-bin');
		complete($ng, 'nginx', $dport, $ng->port, '/cgi-bin');
		nph_parsed($ng, 'nginx', undef, $ng->port, '/cgi-bin');
	}
	$stop->();
}

apache_case('prefork', 'mod_cgi');
apache_case('event', 'mod_cgid');
lighttpd_case();
nginx_case();
done_testing;
