#!/usr/bin/perl
# A legacy CGI program must not notice cgiwrap: each case is requested from a real Apache (prefork + mod_cgi,
# event + mod_cgid), lighttpd or nginx run directly and through cgiwrap,
# from the snippets of etc/, and what the client receives is compared.
#   - A script reached through a symlink gets the symlink's path as $0
#     (awstats names its configuration after $0), through the Action and
#     the ScriptAlias way, lighttpd's cgi.assign and nginx to `cgiwrap
#     -f` (fcgiwrap the reference), as directly.
#   - Action: SetEnv and SetEnvIf of the scripts' <Directory> reach the
#     script under their own names (cgit's CGIT_CONFIG), as directly.
#   - A bare "Location: /path" (a local redirect) through the Action and
#     the ScriptAlias way gives the page of /path, as directly; under
#     lighttpd (its default: a 302; cgi.local-redir = "enable": the page)
#     and nginx (a 302) the same status, Location and body as directly.
#   - "ErrorDocument 404 /legacy/env.cgi" into the ScriptAlias way runs
#     env.cgi with the failed request's REDIRECT_STATUS and REDIRECT_URL.
#   - A shim (etc/apache-shim.cgi): the program runs in its own
#     directory, as directly; with shim_chdir = false in the shim's.
#   - The ScriptAlias way: a directory the scripts' <Directory> denies
#     stays denied with the <Location> the snippet documents; and with no
#     alias_roots (the default) no URL of it runs anything.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(abs_path);
use Server qw(:all write_file);
use Nginx qw(nginx_with_reference);
use Harness qw(T);

my $CGIWRAP = cgiwrap_behind_servers(servers => [qw(apache lighttpd)]);
my $ETC = abs_path("$FindBin::Bin/../../etc");

my ($t, $conf) = cgiwrap_tree('transparent',
    dirs => [qw(legacy legacy/private wrapbin wrapoff rec var conf off shim
    nginx)],
    root => 'legacy', conf => sub { qq{alias_roots = {"$_[0]/legacy"}\n} });
my $WRAP = wrapbin($CGIWRAP, $t);
File::Copy::copy($WRAP, "$t/wrapoff/cgiwrap") or die "copy: $!";
chmod 0755, "$t/wrapoff/cgiwrap" or die "chmod: $!";
# The defaults: the URL walk off, and a shim's program run where the
# shim runs.
my $OFF = "$t/off.conf";
write_file($OFF, 0644, <<"EOF");
roots = {"$t/legacy"}
log = "$t/var/off.log"
shim_chdir = false
EOF

write_file("$t/legacy/env.cgi", 0755, <<'EOF');
#!/usr/bin/perl
use Cwd qw(getcwd);
print "Content-Type: text/plain\r\n\r\n";
print "CWD=", getcwd(), "\n";
print "ZERO=$0\n";
print "$_=", $ENV{$_} // '(unset)', "\n" for qw(CGIT_CONFIG FROM_SETENVIF
    REDIRECT_STATUS REDIRECT_URL REDIRECT_CGIT_CONFIG SCRIPT_NAME PATH_INFO
    QUERY_STRING REQUEST_METHOD);
print "WRAPPED=", (exists $ENV{CGIWRAP_CONTROL_FD} ? 1 : 0), "\n";
EOF
write_file("$t/legacy/redir.cgi", 0755, <<'EOF');
#!/bin/sh
printf 'Location: %s/env.cgi?from=redir\r\n\r\n' "${SCRIPT_NAME%/redir.cgi}"
EOF
write_file("$t/legacy/private/secret.cgi", 0755, <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nsecret\n'
EOF
symlink('env.cgi', "$t/legacy/link.cgi") or die "symlink: $!";
handler_snippets($t, CGIWRAP => $WRAP, CGIWRAP_DIR => "$t/wrapbin",
    CONF => $conf, ROOT => "$t/legacy");
write_file("$t/off/apache-scriptalias.conf", 0644,
    instantiate("$ETC/apache-scriptalias.conf", CGIWRAP => "$t/wrapoff/cgiwrap",
    CGIWRAP_DIR => "$t/wrapoff", CONF => $OFF, ROOT => "$t/legacy"));
write_file("$t/shim/env.cgi", 0755, instantiate("$ETC/apache-shim.cgi",
    CGIWRAP => $WRAP, CONF => $conf, TARGET => "$t/legacy/env.cgi"));
write_file("$t/shim/off.cgi", 0755, instantiate("$ETC/apache-shim.cgi",
    CGIWRAP => $WRAP, CONF => $OFF, TARGET => "$t/legacy/env.cgi"));

# What the scripts' directories say, in every virtual host.
my $SCRIPTS = <<"EOF";
    <Directory "$t/legacy">
        Require all granted
        SetEnv CGIT_CONFIG "$t/cgitrc"
        SetEnvIf Request_URI "\\.cgi" FROM_SETENVIF=yes
    </Directory>
    <Directory "$t/legacy/private">
        Require all denied
    </Directory>
EOF

sub parse {
	my ($body) = @_;
	return { map { /^([A-Z_]+)=(.*)\z/ ? ($1 => $2) : () }
	    split /\n/, $body // '' };
}

sub get {
	my ($srv, $port, $path, @args) = @_;
	my $r = curl_get($srv->url($path, $port), max_time => T(10),
	    args => \@args);
	$r->{env} = parse($r->{body});
	return $r;
}

# The same URL directly and through cgiwrap: the same status, and the
# same values of NAMES.
sub same {
	my ($srv, $name, $dport, $wport, $path, $code, @names) = @_;
	my $d = get($srv, $dport, $path);
	my $w = get($srv, $wport, $path);
	is($d->{code}, $code, "$name: $path directly: $code");
	is($w->{code}, $code, "$name: $path through cgiwrap: $code")
	    or diag("curl exit $w->{rc}: $w->{err}\n$w->{body}");
	is($d->{env}{WRAPPED}, 0, "$name: the direct run is direct");
	is($w->{env}{WRAPPED}, 1, "$name: the other went through cgiwrap");
	for my $v (@names) {
		is($w->{env}{$v}, $d->{env}{$v}, "$name: $v as directly ("
		    . ($d->{env}{$v} // 'undef') . ')');
	}
	return ($d, $w);
}

sub apache_case {
	my ($mpm, $cgi) = @_;
	my $name = "apache $mpm+$cgi";
	my $srv = apache_started("$name: Apache started", mpm => $mpm,
	    cgi => $cgi, dir => "$t/apache-$mpm", extra_ports => 2,
	    conf => sub {
		my ($direct, $wrapped, $off) = @_;
		return <<"EOF";
<VirtualHost 127.0.0.1:$direct>
    ErrorDocument 404 /legacy/env.cgi
    ScriptAlias /cgi-bin/ "$t/legacy/"
    ScriptAlias /legacy/ "$t/legacy/"
    ScriptAlias /shim/ "$t/shim/"
    <Directory "$t/shim">
        Require all granted
    </Directory>
$SCRIPTS
</VirtualHost>
<VirtualHost 127.0.0.1:$wrapped>
    ErrorDocument 404 /legacy/env.cgi
    Include "$t/conf/apache-action.conf"
    Include "$t/conf/apache-scriptalias.conf"
$SCRIPTS
    # The scripts' <Directory> denial repeated for the ScriptAlias way,
    # as the snippet says.
    <Location "/legacy/private">
        Require all denied
    </Location>
</VirtualHost>
<VirtualHost 127.0.0.1:$off>
    Include "$t/off/apache-scriptalias.conf"
$SCRIPTS
</VirtualHost>
EOF
	    }) or return;
	my ($dport, $wport, $oport) = $srv->ports;
	my @script = qw(SCRIPT_NAME PATH_INFO QUERY_STRING REQUEST_METHOD);

	# Item 2: the request's own variables through the Action.
	my ($d, $w) = same($srv, "$name Action SetEnv", $dport, $wport,
	    '/cgi-bin/env.cgi/x?a=1', 200, qw(CGIT_CONFIG FROM_SETENVIF
	    REDIRECT_STATUS REDIRECT_URL REDIRECT_CGIT_CONFIG CWD), @script);
	is($d->{env}{CGIT_CONFIG}, "$t/cgitrc",
	    "$name: SetEnv reaches the direct run (the reference is sound)");

	# $0 is the path the server ran, not the file it resolves to.
	for my $p ('/cgi-bin', '/legacy') {
		($d, $w) = same($srv, "$name symlink", $dport, $wport,
		    "$p/link.cgi", 200, qw(ZERO), @script);
		is($d->{env}{ZERO}, "$t/legacy/link.cgi", "$name: $p/link.cgi "
		    . 'directly: $0 is the symlink');
	}

	# Item 5: a bare Location is a local redirect, in both ways.
	for my $p ('/cgi-bin', '/legacy') {
		($d, $w) = same($srv, "$name local redirect", $dport, $wport,
		    "$p/redir.cgi", 200, qw(REDIRECT_STATUS REDIRECT_URL),
		    @script);
		is($d->{env}{QUERY_STRING}, 'from=redir', "$name: $p/redir.cgi "
		    . 'directly: the page of its Location');
	}
	# Item 5: an ErrorDocument into the ScriptAlias way.
	($d, $w) = same($srv, "$name ErrorDocument into ScriptAlias", $dport,
	    $wport, '/no/such/page?q=1', 404, qw(REDIRECT_STATUS REDIRECT_URL
	    QUERY_STRING SCRIPT_NAME PATH_INFO REQUEST_METHOD));
	is($d->{env}{REDIRECT_URL}, '/no/such/page', "$name: ErrorDocument: "
	    . 'REDIRECT_URL of the failed request directly');

	# Item 9: a shim's program runs in its own directory.
	my $s = get($srv, $dport, '/shim/env.cgi');
	is($s->{code}, 200, "$name shim: 200");
	is($s->{env}{WRAPPED}, 1, "$name shim: through cgiwrap");
	is($s->{env}{CWD}, "$t/legacy", "$name shim: the program runs in its "
	    . 'own directory, as directly');
	$s = get($srv, $dport, '/shim/off.cgi');
	is($s->{env}{CWD}, "$t/shim", "$name shim, shim_chdir = false: in "
	    . "the shim's directory");

	# Item 10: access control of the ScriptAlias way.
	for my $port ($dport, $wport) {
		my $r = get($srv, $port, '/legacy/private/secret.cgi');
		is($r->{code}, 403, "$name: /legacy/private/secret.cgi "
		    . ($port == $dport ? 'directly' : 'through cgiwrap, '
		    . "with the snippet's <Location>") . ': 403');
		unlike($r->{body}, qr/secret/, "$name: and not run");
	}
	for my $path ('/legacy/env.cgi', '/legacy/private/secret.cgi') {
		my $r = get($srv, $oport, $path);
		is($r->{code}, 403, "$name: no alias_roots: $path refused (403)");
		unlike($r->{body}, qr/secret|WRAPPED/, "$name: and not run");
	}
	like($srv->error_log, qr/refused: .*no alias_roots, the URL walk is off/,
	    "$name: the server's error log says why");
	ok($srv->stop, "$name: server stopped cleanly")
	    or diag($srv->stop_problem);
}

# What the client gets for a bare Location: the status, the Location
# header and the body (the WRAPPED line of env.cgi's aside).
sub redirect {
	my ($srv, $port, $path, @args) = @_;
	my $r = get($srv, $port, $path, '-i', @args);
	my ($head, $body) = split /\r?\n\r?\n/, $r->{body}, 2;
	my ($loc) = ($head // '') =~ /^Location: *(.*?)\r?$/mi;
	return ("$r->{code}\nLocation: " . ($loc // '(none)') . "\n"
	    . ($body // '') =~ s/^WRAPPED=.*\n//mr, $r->{env}{WRAPPED});
}

# Item 5 under a server without Apache's local redirects: whatever the
# server makes of redir.cgi's bare Location directly (EXPECT: its status,
# Location and, for a local redirect, env.cgi's QUERY_STRING line), the
# client gets through cgiwrap.
sub same_redirect {
	my ($srv, $name, $dport, $wport, $expect, $dargs, $wargs) = @_;
	my ($d, $dw) = redirect($srv, $dport, '/cgi-bin/redir.cgi', @$dargs);
	my ($w, $ww) = redirect($srv, $wport, '/cgi-bin/redir.cgi', @$wargs);
	like($d, $expect, "$name: bare Location directly");
	is($w, $d, "$name: bare Location through cgiwrap: the same status, "
	    . 'Location and body');
	is($ww, 1, "$name: and env.cgi went through cgiwrap")
	    if defined $dw;
}

# lighttpd runs "cgiwrap SCRIPT_FILENAME"; the reference is the same URL
# run by lighttpd itself (a request header selects it), with lighttpd's
# default for a bare Location (no local redirect) and with
# cgi.local-redir = "enable" (another header).
sub lighttpd_case {
	my $srv = eval { lighttpd_start(dir => "$t/lighttpd", conf => <<"EOF") };
include "$t/conf/lighttpd.conf"
\$REQUEST_HEADER["X-Direct"] == "1" {
    cgi.assign = ( ".cgi" => "" )
}
\$REQUEST_HEADER["X-Local-Redir"] == "1" {
    cgi.local-redir = "enable"
}
EOF
	unless (ok($srv, 'lighttpd: started')) {
		diag($@);
		return;
	}
	my $d = get($srv, $srv->port, '/cgi-bin/link.cgi', '-H', 'X-Direct: 1');
	my $w = get($srv, $srv->port, '/cgi-bin/link.cgi');
	is("$d->{code} $d->{env}{WRAPPED}", '200 0', 'lighttpd: directly: 200');
	is("$w->{code} $w->{env}{WRAPPED}", '200 1',
	    'lighttpd: through cgiwrap: 200');
	is($d->{env}{ZERO}, "$t/legacy/link.cgi",
	    'lighttpd: directly, $0 is the symlink');
	is($w->{env}{ZERO}, $d->{env}{ZERO}, 'lighttpd: $0 as directly');

	my @direct = ('-H', 'X-Direct: 1');
	same_redirect($srv, 'lighttpd', $srv->port, $srv->port,
	    qr{^302\nLocation: /cgi-bin/env\.cgi\?from=redir\n}, \@direct, []);
	my @local = ('-H', 'X-Local-Redir: 1');
	my $redirs = sub { grep { m{ target=\S*/redir\.cgi } }
	    split /\n/, slurp("$t/var/cgiwrap.log") };
	my $before = () = $redirs->();
	same_redirect($srv, 'lighttpd cgi.local-redir', $srv->port, $srv->port,
	    qr{^200\nLocation: \(none\)\n.*^QUERY_STRING=from=redir$}ms,
	    [@direct, @local], \@local);
	# lighttpd follows the Location itself and closes the program's
	# output: the redirect was the whole response, not an abort.
	ok(wait_for(sub { $redirs->() > $before }, T(10)),
	    'lighttpd cgi.local-redir: redir.cgi logged');
	like(($redirs->())[-1] // '', qr/ status=NORMAL /,
	    'lighttpd cgi.local-redir: redir.cgi is NORMAL, not ABORTED');
	ok($srv->stop, 'lighttpd: stopped cleanly') or diag($srv->stop_problem);
}

# nginx: etc/nginx.conf to `cgiwrap -f`, the reference the same block to
# fcgiwrap (the program run directly).
sub nginx_case {
	my ($ng, $dport, $stop) = nginx_with_reference(dir => "$t/nginx",
	    conf => $conf, bin => $WRAP, root => "$t/legacy");
	if ($ng) {
		my $d = get($ng, $dport, '/cgi-bin/link.cgi');
		my $w = get($ng, $ng->port, '/cgi-bin/link.cgi');
		is("$d->{code} $d->{env}{WRAPPED}", '200 0',
		    'nginx: directly (fcgiwrap): 200');
		is("$w->{code} $w->{env}{WRAPPED}", '200 1',
		    'nginx: through cgiwrap -f: 200');
		is($d->{env}{ZERO}, "$t/legacy/link.cgi",
		    'nginx: directly, $0 is the symlink');
		is($w->{env}{ZERO}, $d->{env}{ZERO}, 'nginx: $0 as directly');
		same_redirect($ng, 'nginx', $dport, $ng->port,
		    qr{^302\nLocation: [^\n]*/cgi-bin/env\.cgi\?from=redir\n},
		    [], []);
	}
	$stop->();
}

apache_case('prefork', 'mod_cgi');
apache_case('event', 'mod_cgid');
lighttpd_case();
nginx_case();
done_testing;
