#!/usr/bin/perl
# Target vetting in handler mode (issue 3; SPEC R-TGT-3, R-ENV-1), behind
# Apache prefork + mod_cgi, Apache event + mod_cgid (Action and ScriptAlias
# handler modes, etc/apache-*.conf) and lighttpd (cgi.assign,
# etc/lighttpd.conf).
#
# Every refusal: the response is 403 or 404 (as listed per case) with no
# detail in the body; the target did not run (each target would create a
# marker file $t/mark/NAME); the server's error log gained exactly one
# `cgiwrap: refused: REASON` line, REASON being exactly the one listed.
# Cases: a symlink pointing out of the roots, a target writable by group,
# one writable by others, a directory writable by others, setuid and
# setgid targets, a target that is not executable, a directory, a missing
# file, and a request naming cgiwrap itself (a copy of the binary among
# the scripts, hard-linked as the handler).  A few cases never reach
# cgiwrap because the server answers them itself (Apache's Action and
# lighttpd check that the file exists, lighttpd refuses a directory): for
# those the server's answer is asserted, no marker, and no cgiwrap line.
#
# `..` and percent-encoded traversal: both servers decode %2e and remove
# dot segments before mapping a URL, so through them such a request only
# asserts that nothing ran (and what the server answered).  cgiwrap's own
# refusal is then tested by running it directly, in each handler mode, as
# www-data with the environment a server that did not normalise would
# give (PATH_INFO or PATH_TRANSLATED with `..`, a literal %2e%2e, a
# lighttpd-style argument with `..`), asserting status, stderr line,
# exit code and marker.  Also an Action environment with REDIRECT_STATUS
# and PATH_TRANSLATED but no PATH_INFO: a clean 404, not a crash.
#
# R-ENV-1.  httpoxy: Apache 2.4.71 and lighttpd drop a client's Proxy
# header themselves (FIELD-NOTES), so a test through them could not fail:
# cgiwrap is run directly in handler mode with HTTP_PROXY in its
# environment, and the child must not see it (HTTP_PROXY_OTHER must pass).
# env_unset / env_set per script section: through Apache (prefork, Action)
# and lighttpd, a request with header X-Secret to three copies of a dumping
# script, two of them with their own section.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(abs_path);
use File::Copy qw(copy);
use Time::HiRes qw(time);
use Server qw(:all write_file parse_env run_cgi);

my $CGIWRAP = cgiwrap_behind_servers(servers => [qw(apache lighttpd)]);
my $ETC = abs_path("$FindBin::Bin/../../etc");

my $t = abs_path(make_tempdir('vetting'));
make_dirs($t, qw(legacy legacy/open legacy/dir.cgi legacy/sub outside
    wrapbin conf mark var));
chown_www("$t/mark", "$t/var");
my $L = "$t/legacy";
my $conf = "$t/cgiwrap.conf";
write_file($conf, 0644, <<"EOF");
roots = {"$L"}
alias_roots = {"$L"}
log = "$t/var/cgiwrap.log"
script "*/env-a.cgi" {
    env_unset = {"HTTP_X_SECRET"}
    env_set = {"GREETING=hello a", "PATH=/a/bin"}
}
script "*/env-b.cgi" {
    env_set = {"GREETING=hello b"}
}
EOF

# A target: creates its marker, answers 200.
sub target {
	my ($path, $mode) = @_;
	(my $name = $path) =~ s{.*/}{};
	write_file($path, 0755, <<"EOF");
#!/bin/sh
touch "$t/mark/$name"
printf 'Content-Type: text/plain\\r\\n\\r\\nran $name\\n'
EOF
	chmod $mode, $path or die "chmod $path: $!";	# after writing
}
target("$L/ok.cgi", 0755);
target("$t/outside/evil.cgi", 0755);
symlink("$t/outside/evil.cgi", "$L/link.cgi") or die "symlink: $!";
target("$L/gw.cgi", 0775);
target("$L/ow.cgi", 0757);
target("$L/open/x.cgi", 0755);
chmod 0777, "$L/open" or die;
target("$L/suid.cgi", 04755);
target("$L/sgid.cgi", 02755);
target("$L/noexec.cgi", 0644);
copy($CGIWRAP, "$L/cgiwrap.cgi") or die "copy: $!";
chmod 0755, "$L/cgiwrap.cgi";
# The handler is the same file (same inode) as $L/cgiwrap.cgi.
link("$L/cgiwrap.cgi", "$t/wrapbin/cgiwrap") or die "link: $!";
my $WRAP = "$t/wrapbin/cgiwrap";
my $DUMP = <<'EOF';
#!/usr/bin/perl
print "Content-Type: text/plain\r\n\r\n";
print "$_=$ENV{$_}\n" for sort keys %ENV;
EOF
write_file("$L/$_", 0755, $DUMP) for qw(dump.cgi env-a.cgi env-b.cgi);

my %snip = (CGIWRAP => $WRAP, CGIWRAP_DIR => "$t/wrapbin", CONF => $conf,
    ROOT => $L);
handler_snippets($t, %snip);

sub failures { scalar grep { !$_ } Test::More->builder->summary }

my $SECRET = qr/\Q$t\E|legacy|writ|setuid|setgid|execut|outside|roots|regular|director|itself|cgiwrap|\.\./i;

# The cgiwrap refusal lines in TEXT (an error log), as their reasons.
# Apache adds ": SCRIPT" (the handler's path) to each line of a CGI's
# stderr; lighttpd passes the line as it is.
sub refusals {
	my ($text) = @_;
	my @r;
	for (split /\n/, $text) {
		next unless /cgiwrap: refused: (.*)\z/;
		(my $why = $1) =~ s/: \Q$WRAP\E\z//;
		push @r, $why;
	}
	return @r;
}

sub markers { return map { s{.*/}{}r } glob("$t/mark/*") }

# One request that cgiwrap must refuse (REASON defined) or that the server
# answers itself (REASON undef: no cgiwrap line may appear).
sub refused {
	my ($srv, $name, $path, $codes, $reason, %o) = @_;
	my $f0 = failures();
	my $before = length $srv->error_log;
	my $r = curl_get($srv->url($path), max_time => T(10),
	    args => $o{curl} // []);
	my $code_ok = grep { $r->{code} eq $_ } @$codes;
	ok($code_ok, "$name $path: answer $r->{code} (expected "
	    . join(' or ', @$codes) . ')')
	    or diag("curl exit $r->{rc}: $r->{err}\n$r->{body}");
	unlike($r->{body}, $SECRET, "$name $path: no detail in the body")
	    if defined $reason;
	my @new;
	my $grab = sub {
		@new = refusals(substr($srv->error_log, $before));
		return scalar @new;
	};
	if (defined $reason) {
		wait_for($grab, T(5));
		is(scalar @new, 1, "$name $path: one cgiwrap refusal line");
		is($new[0], $reason, "$name $path: reason is \"$reason\"");
	} else {
		# The access log line is written when the request is over.
		$grab->();
		is("@new", '', "$name $path: the server refused it itself");
	}
	my @m = markers();
	is("@m", '', "$name $path: the target did not run");
	unlink glob("$t/mark/*");
	diag("---- error log:\n" . substr($srv->error_log, $before))
	    if failures() > $f0;
}

# The control case: a good target runs (so markers can appear).
sub control {
	my ($srv, $name, $path) = @_;
	my $r = curl_get($srv->url($path), max_time => T(10));
	is($r->{code}, 200, "$name $path: a good target answers 200");
	ok(wait_for(sub { -e "$t/mark/ok.cgi" }, T(5)),
	    "$name $path: a good target leaves its marker");
	unlink glob("$t/mark/*");
}

my $R = "resolves to $t/outside/evil.cgi, outside the roots";

# Cases cgiwrap refuses the same way in every mode: [NAME, code, reason].
my @COMMON = (
	['link.cgi', 403, "$L/link.cgi: $R"],
	['gw.cgi', 403, "$L/gw.cgi: writable by group or others"],
	['ow.cgi', 403, "$L/ow.cgi: writable by group or others"],
	['open/x.cgi', 403, "$L/open/x.cgi: directory writable by others"],
	['suid.cgi', 403, "$L/suid.cgi: setuid or setgid"],
	['sgid.cgi', 403, "$L/sgid.cgi: setuid or setgid"],
	['noexec.cgi', 403, "$L/noexec.cgi: not executable"],
	['cgiwrap.cgi', 403, "$L/cgiwrap.cgi: is cgiwrap itself"],
);

# Traversal through a server: dot segments are resolved by the server
# (to /outside/evil.cgi, which it does not map: 404) and %2f is refused
# by it (Apache: AllowEncodedSlashes Off, 404).
my @TRAVERSAL = ('/../outside/evil.cgi', '/%2e%2e/outside/evil.cgi',
    '/sub/%2E%2E/%2e%2e/outside/evil.cgi', '/..%2foutside/evil.cgi');

sub apache_case {
	my ($mpm, $cgi) = @_;
	my $name = "apache $mpm+$cgi";
	my $srv = eval {
		apache_start(mpm => $mpm, cgi => $cgi, dir => "$t/apache-$mpm",
		    conf => <<"EOF");
Include "$t/conf/apache-action.conf"
Include "$t/conf/apache-scriptalias.conf"
EOF
	};
	unless (ok($srv, "$name: Apache started")) {
		diag($@);
		return;
	}
	note("$name on port " . $srv->port . "; files in $t");
	control($srv, "$name Action", '/cgi-bin/ok.cgi');
	control($srv, "$name ScriptAlias", '/legacy/ok.cgi');
	for my $c (@COMMON) {
		my ($file, $code, $why) = @$c;
		refused($srv, "$name Action", "/cgi-bin/$file", [$code], $why);
		refused($srv, "$name ScriptAlias", "/legacy/$file", [$code],
		    $why);
	}
	# A directory: Action: Apache redirects to the slash form (mod_dir)
	# and does not serve that either; ScriptAlias: cgiwrap walks it and
	# finds no program.
	refused($srv, "$name Action", '/cgi-bin/dir.cgi', [301], undef);
	refused($srv, "$name Action", '/cgi-bin/dir.cgi/', [404], undef);
	refused($srv, "$name ScriptAlias", '/legacy/dir.cgi', [403],
	    '/dir.cgi: no program in it, only directories');
	# A missing file: Action (without "virtual") is answered by Apache.
	refused($srv, "$name Action", '/cgi-bin/missing.cgi', [404], undef);
	refused($srv, "$name ScriptAlias", '/legacy/missing.cgi', [404],
	    "$L/missing.cgi: No such file or directory");
	for my $p (@TRAVERSAL) {
		for my $prefix ('/cgi-bin', '/legacy') {
			refused($srv, "$name traversal", "$prefix$p", [404],
			    undef, curl => ['--path-as-is']);
		}
	}
	env_sections($srv, $name, '/cgi-bin') if $mpm eq 'prefork';
	ok($srv->stop, "$name: stopped cleanly") or diag($srv->stop_problem);
}

sub lighttpd_case {
	my $name = 'lighttpd';
	my $srv = eval {
		lighttpd_start(dir => "$t/lighttpd",
		    conf => "include \"$t/conf/lighttpd.conf\"\n");
	};
	unless (ok($srv, "$name: lighttpd started")) {
		diag($@);
		return;
	}
	note("$name on port " . $srv->port . "; files in $t");
	control($srv, "$name cgi.assign", '/cgi-bin/ok.cgi');
	for my $c (@COMMON) {
		my ($file, $code, $why) = @$c;
		refused($srv, "$name cgi.assign", "/cgi-bin/$file", [$code], $why);
	}
	# lighttpd checks the file itself: a directory is redirected to its
	# slash form (301), a missing file is a 404.
	refused($srv, "$name cgi.assign", '/cgi-bin/dir.cgi', [301], undef);
	refused($srv, "$name cgi.assign", '/cgi-bin/missing.cgi', [404], undef);
	for my $p (@TRAVERSAL) {
		refused($srv, "$name traversal", "/cgi-bin$p", [400, 404], undef,
		    curl => ['--path-as-is']);
	}
	env_sections($srv, $name, '/cgi-bin');
	ok($srv->stop, "$name: stopped cleanly") or diag($srv->stop_problem);
}

# env_unset / env_set of script sections (R-ENV-1), through a server.
sub env_sections {
	my ($srv, $name, $prefix) = @_;
	my %got;
	for my $s (qw(dump env-a env-b)) {
		my $r = curl_get($srv->url("$prefix/$s.cgi"), max_time => T(10),
		    args => ['-H', 'X-Secret: s3cr3t']);
		is($r->{code}, 200, "$name $s.cgi: 200");
		$got{$s} = parse_env($r->{body});
	}
	is($got{dump}{HTTP_X_SECRET}, 's3cr3t',
	    "$name: without a section the header reaches the script");
	ok(!exists $got{dump}{GREETING}, "$name: without a section no env_set");
	ok(!exists $got{'env-a'}{HTTP_X_SECRET},
	    "$name: env-a.cgi: env_unset removed HTTP_X_SECRET");
	is($got{'env-a'}{GREETING}, 'hello a', "$name: env-a.cgi: env_set");
	is($got{'env-a'}{PATH}, '/a/bin', "$name: env-a.cgi: env_set replaces");
	is($got{'env-b'}{HTTP_X_SECRET}, 's3cr3t',
	    "$name: env-b.cgi: its section does not unset it");
	is($got{'env-b'}{GREETING}, 'hello b',
	    "$name: env-b.cgi: its own env_set");
}

# ---------------------------------------------------------------------------
# cgiwrap run directly, as www-data, in handler mode.

my %CGI = (GATEWAY_INTERFACE => 'CGI/1.1', SERVER_PROTOCOL => 'HTTP/1.1',
    REQUEST_METHOD => 'GET', SERVER_SOFTWARE => 'test', QUERY_STRING => '',
    SERVER_NAME => 'localhost', DOCUMENT_ROOT => "$t/htdocs",
    CGIWRAP_CONFIG => $conf);

sub action_env {
	my ($uri_path, $translated, %more) = @_;
	return { %CGI, REDIRECT_STATUS => '200', REDIRECT_URL => $uri_path,
	    SCRIPT_NAME => '/cgiwrap-bin/cgiwrap', SCRIPT_FILENAME => $WRAP,
	    PATH_INFO => $uri_path, PATH_TRANSLATED => $translated,
	    REQUEST_URI => $uri_path, %more };
}

sub alias_env {
	my ($path_info, %more) = @_;
	return { %CGI, SCRIPT_NAME => '/legacy', SCRIPT_FILENAME => $WRAP,
	    PATH_INFO => $path_info, REQUEST_URI => "/legacy$path_info",
	    %more };
}

sub direct_refused {
	my ($name, $env, $argv, $code, $reason) = @_;
	my $f0 = failures();
	my $r = run_cgi(argv => [$WRAP, @$argv], env => $env,
	    user => www_user(), timeout => T(10));
	like($r->{stdout}, qr/\AStatus: $code\b/, "direct $name: Status $code");
	unlike($r->{stdout} =~ s/\A.*?\r?\n\r?\n//sr, $SECRET,
	    "direct $name: no detail in the body");
	my @why = refusals($r->{stderr});
	is(scalar @why, 1, "direct $name: one refusal line on stderr");
	is($why[0], $reason, "direct $name: reason is \"$reason\"");
	is($r->{exit}, $code == 404 ? 127 : 126, "direct $name: exit status");
	my @m = markers();
	is("@m", '', "direct $name: the target did not run");
	unlink glob("$t/mark/*");
	diag("stdout:\n$r->{stdout}\nstderr:\n$r->{stderr}") if failures() > $f0;
}

sub direct_cases {
	# The control: the same environment shape runs a good target.
	my $r = run_cgi(argv => [$WRAP], user => www_user(), timeout => T(10),
	    env => action_env('/cgi-bin/ok.cgi', "$L/ok.cgi"));
	like($r->{stdout}, qr/ran ok\.cgi/, 'direct Action: a good target runs')
	    or diag($r->{stderr});
	ok(-e "$t/mark/ok.cgi", 'direct Action: its marker appears');
	unlink glob("$t/mark/*");

	direct_refused('ScriptAlias PATH_INFO=/../outside/evil.cgi',
	    alias_env('/../outside/evil.cgi'), [], 403,
	    "/../outside/evil.cgi: '.', '..' or empty component");
	direct_refused('ScriptAlias PATH_INFO=/sub/../../outside/evil.cgi',
	    alias_env('/sub/../../outside/evil.cgi'), [], 403,
	    "/sub/../../outside/evil.cgi: '.', '..' or empty component");
	direct_refused('ScriptAlias PATH_INFO=/sub/./../ok.cgi',
	    alias_env('/sub/./../ok.cgi'), [], 403,
	    "/sub/./../ok.cgi: '.', '..' or empty component");
	# Never decoded a second time: %2e%2e is a name, and there is none.
	direct_refused('ScriptAlias PATH_INFO=/%2e%2e/outside/evil.cgi',
	    alias_env('/%2e%2e/outside/evil.cgi'), [], 404,
	    "$L/%2e%2e: No such file or directory");
	direct_refused('Action PATH_TRANSLATED with ..',
	    action_env('/cgi-bin/../outside/evil.cgi',
	    "$L/../outside/evil.cgi"), [], 403,
	    "$L/../outside/evil.cgi: '.', '..' or empty component");
	direct_refused('Action PATH_TRANSLATED with %2e%2e',
	    action_env('/cgi-bin/%2e%2e/outside/evil.cgi',
	    "$L/%2e%2e/outside/evil.cgi"), [], 404,
	    "$L/%2e%2e: No such file or directory");
	direct_refused('Action, a missing file',
	    action_env('/cgi-bin/missing.cgi', "$L/missing.cgi"), [], 404,
	    "$L/missing.cgi: No such file or directory");
	# Only REDIRECT_STATUS and PATH_TRANSLATED: once a SIGSEGV.
	my $nopi = action_env('/cgi-bin/ok.cgi', "$L/ok.cgi");
	delete $nopi->{PATH_INFO};
	direct_refused('Action, PATH_TRANSLATED without PATH_INFO', $nopi, [],
	    404, "$L/ok.cgi: PATH_TRANSLATED without PATH_INFO");
	direct_refused('Action, a directory',
	    action_env('/cgi-bin/dir.cgi', "$L/dir.cgi"), [], 403,
	    "$L/dir.cgi: no program in it, only directories");
	direct_refused('lighttpd-style argument, a directory',
	    { %CGI, SCRIPT_NAME => '/cgi-bin/dir.cgi',
	    SCRIPT_FILENAME => "$L/dir.cgi" }, ["$L/dir.cgi"], 403,
	    "$L/dir.cgi: not a regular file");
	direct_refused('lighttpd-style argument, a missing file',
	    { %CGI, SCRIPT_NAME => '/cgi-bin/missing.cgi',
	    SCRIPT_FILENAME => "$L/missing.cgi" }, ["$L/missing.cgi"], 404,
	    "$L/missing.cgi: No such file or directory");
	direct_refused('lighttpd-style argument with ..',
	    { %CGI, SCRIPT_NAME => '/cgi-bin/../outside/evil.cgi',
	    SCRIPT_FILENAME => "$L/../outside/evil.cgi" },
	    ["$L/../outside/evil.cgi"], 403,
	    "$L/../outside/evil.cgi: resolves to $t/outside/evil.cgi, "
	    . 'outside the roots');
	direct_refused('lighttpd-style argument that is not SCRIPT_FILENAME',
	    { %CGI, SCRIPT_NAME => '/cgi-bin/ok.cgi',
	    SCRIPT_FILENAME => "$L/ok.cgi" }, ["$t/outside/evil.cgi"], 403,
	    "$t/outside/evil.cgi: argument is not SCRIPT_FILENAME");

	# httpoxy (R-ENV-1), in each handler mode.
	my %proxy = (HTTP_PROXY => 'http://192.0.2.1:3128/',
	    HTTP_PROXY_OTHER => 'kept');
	for my $m (['Action', action_env('/cgi-bin/dump.cgi', "$L/dump.cgi",
	    %proxy), []],
	    ['ScriptAlias', alias_env('/dump.cgi', %proxy), []],
	    ['lighttpd', { %CGI, %proxy, SCRIPT_NAME => '/cgi-bin/dump.cgi',
	    SCRIPT_FILENAME => "$L/dump.cgi" }, ["$L/dump.cgi"]]) {
		my ($mode, $env, $argv) = @$m;
		$r = run_cgi(argv => [$WRAP, @$argv], env => $env,
		    user => www_user(), timeout => T(10));
		my $e = parse_env($r->{stdout});
		is($e->{SCRIPT_FILENAME}, "$L/dump.cgi",
		    "direct $mode: dump.cgi ran") or diag($r->{stderr});
		ok(!exists $e->{HTTP_PROXY},
		    "direct $mode: httpoxy: HTTP_PROXY is removed");
		is($e->{HTTP_PROXY_OTHER}, 'kept',
		    "direct $mode: other variables pass");
	}
}

my $t0 = time;
apache_case('prefork', 'mod_cgi');
apache_case('event', 'mod_cgid');
lighttpd_case();
direct_cases();
ok(wait_for(sub { !pids_matching(qr/\Q$t\E/) }, T(5)),
    'no process of the test is left');
kill 'KILL', pids_matching(qr/\Q$t\E/);
note(sprintf('vetting.t took %.1f s', time - $t0));
done_testing;
