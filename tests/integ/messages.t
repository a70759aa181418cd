#!/usr/bin/perl
# cgiwrap's own messages in the servers' error logs: one entry each, and
# never a line of the request's making.
#  - A request path with %0a followed by a fake Apache entry, through the
#    ScriptAlias way (etc/apache-scriptalias.conf) of Apache event +
#    mod_cgid (cgiwrap's stderr is the error log) and prefork + mod_cgi
#    (Apache logs what it reads of it): no entry of the error log starts
#    with the forged text, and cgiwrap's refusal shows the bytes escaped.
#  - Under prefork + mod_cgi, which makes an entry of every piece it
#    reads, one refusal is exactly one entry.
#  - The same forged path through nginx and cgiwrap -f (FCGI_STDERR):
#    nginx's error log has it escaped, on no line of its own.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Harness qw(T);
use Server qw(:all write_file);
use Nginx qw(nginx_start nginx_snippet cgiwrap_start have_nginx);

my $CGIWRAP = cgiwrap_behind_apache();

my ($t, $conf) = cgiwrap_tree('messages',
    dirs => [qw(legacy wrapbin rec var conf nginx)], root => 'legacy',
    conf => sub { qq{alias_roots = {"$_[0]/legacy"}\n} });
my $WRAP = wrapbin($CGIWRAP, $t);
handler_snippets($t, CGIWRAP => $WRAP, CGIWRAP_DIR => "$t/wrapbin",
    CONF => $conf, ROOT => "$t/legacy");

# A line as Apache writes one, and one as nginx does but for the date
# (nginx would take its slashes for the end of the script's name).
my $FAKE_APACHE = "[Mon Jan 01 00:00:00.000000 2024] [authz_core:error] "
    . "[pid 1] [client 10.0.0.1:1] AH01630: client denied FORGED$$";
my $FAKE_NGINX = "[emerg] 1#1: FORGED$$";

sub pct { my ($s) = @_; $s =~ s/([^A-Za-z0-9._-])/sprintf('%%%02X', ord $1)/ge; $s }

# cgiwrap's refusal of a script named "x\nFAKE", as written.
sub message {
	my ($fake) = @_;
	return "cgiwrap: refused: $t/legacy/x\\x0a$fake: "
	    . 'No such file or directory';
}

# Request PATH of SRV; wait until its error log holds WANT (a regexp).
sub refusal {
	my ($srv, $path, $want) = @_;
	my $r = curl_get($srv->url($path), max_time => T(20));
	is($r->{code}, 404, "$path: 404") or diag($r->{err});
	ok(wait_for(sub { $srv->error_log =~ $want }, T(10)),
	    "$path: the refusal is in the error log")
	    or diag($srv->error_log);
	return $srv->error_log;
}

sub forged_apache {
	my ($srv, $name, $cgi) = @_;
	my $text = refusal($srv, '/legacy/x%0A' . pct($FAKE_APACHE),
	    qr/FORGED$$/);
	my @forged = grep { /^\Q[Mon Jan 01 00:00:00.000000 2024]\E/ }
	    split /\n/, $text;
	is(scalar @forged, 0, "$name: no entry starts with the forged text")
	    or diag(join("\n", @forged));
	# mod_cgi's entries escape backslashes once more.
	my $want = message($FAKE_APACHE);
	$want =~ s/\\/\\\\/g if $cgi eq 'mod_cgi';
	ok(index($text, $want) >= 0,
	    "$name: cgiwrap's message shows the escaped bytes")
	    or diag("want: $want\nin: $text");
}

for my $case (['event', 'mod_cgid'], ['prefork', 'mod_cgi']) {
	my ($mpm, $cgi) = @$case;
	my $name = "apache $mpm+$cgi";
	my $srv = apache_started("$name: Apache started", mpm => $mpm,
	    cgi => $cgi, dir => "$t/apache-$mpm",
	    conf => "Include \"$t/conf/apache-scriptalias.conf\"\n") or next;
	forged_apache($srv, $name, $cgi);
	next unless $cgi eq 'mod_cgi';
	# mod_cgi logs each piece of stderr it reads as an entry (AH01215):
	# a message written in parts became several.  The requests come one
	# after the other, so the new entries are those of the last one.
	for my $i (1 .. 5) {
		my $before = () = $srv->error_log =~ /AH01215/g;
		my $text = refusal($srv, "/legacy/missing$i",
		    qr/legacy\/missing$i: No such file/);
		my @all = grep { /AH01215/ } split /\n/, $text;
		my @new = @all[$before .. $#all];
		is(scalar @new, 1, "$name: refusal $i is one entry")
		    or diag(join("\n", @new));
		my $msg = "cgiwrap: refused: $t/legacy/missing$i: "
		    . 'No such file or directory';
		like($new[0] // '', qr/ AH01215: .*: \Q$msg\E$/,
		    "$name: refusal $i: the entry is the whole message");
	}
	$srv->stop;
}

# nginx: the refusal goes to FCGI_STDERR, which nginx logs.
SKIP: {
	skip('nginx is not installed (tests/deps.sh installs it)', 3)
	    unless have_nginx();
	my $cw = cgiwrap_start(conf => $conf, dir => $t, workers => 1);
	my $ng = nginx_start(dir => "$t/nginx", conf => sub {
		my ($port) = @_;
		return nginx_snippet(LISTEN => "127.0.0.1:$port",
		    ROOT => "$t/legacy", SOCKET => $cw->socket);
	});
	my $text = refusal($ng, '/cgi-bin/x%0A' . pct($FAKE_NGINX),
	    qr/FORGED$$/);
	my @forged = grep { /^\Q[emerg]\E/ } split /\n/, $text;
	is(scalar @forged, 0, 'nginx: no line starts with the forged text')
	    or diag(join("\n", @forged));
	my $want = 'FastCGI sent in stderr: "' . message($FAKE_NGINX) . '"';
	ok(index($text, $want) >= 0,
	    "nginx: cgiwrap's message shows the escaped bytes")
	    or diag("want: $want\nin: $text");
	$ng->stop;
	$cw->stop;
}

done_testing();
