#!/usr/bin/perl
# cgiwrap -f behind nginx (etc/nginx.conf): nginx passes a request header
# that comes twice as two FastCGI parameters of one name (two HTTP_X_SET=
# entries).  A name the config sets (env_set) or removes (env_unset) loses
# every copy: the program sees only the config's value, and nothing of a
# removed one; so does its shutdown command.  The reference: the same
# request to a program without those settings gets both copies (nginx
# does pass them twice, so the test can fail).
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Server qw(T curl_get write_file);
use Nginx qw(:all);

cgiwrap_behind_nginx(tools => [qw(curl)]);

my $fx = fcgi_fixture(tag => 'fastcgi-env', conf => <<'EOF');
script "*/environ" {
    env_set = {"HTTP_X_SET=config"}
    env_unset = {"HTTP_X_GONE"}
}
EOF
my $t = $fx->{dir};
my $ENVIRON = <<'EOS';
#!/bin/sh
# The environment exactly as the program got it, one entry a line.
printf 'Content-Type: text/plain\r\n\r\n'
tr '\0' '\n' < /proc/$$/environ
EOS
write_file("$fx->{prog}/$_", 0755, $ENVIRON) for qw(environ reference);

my $cw = eval { cgiwrap_start(conf => $fx->{conf}, dir => "$t/var",
    workers => 1) };
ok($cw, 'cgiwrap -f answers on its socket') or diag($@);
my $ng = $cw && eval { nginx_start(dir => "$t/nginx", conf => sub {
	my ($port) = @_;
	return nginx_snippet(LISTEN => "127.0.0.1:$port", ROOT => $fx->{prog},
	    SOCKET => $cw->socket);
}) };
ok($ng, 'nginx started with etc/nginx.conf') or diag($@);
unless ($cw && $ng) {
	done_testing;
	exit;
}

# NAME requested with X-Set and X-Gone twice each: its environment lines.
sub twice {
	my ($name) = @_;
	my $r = curl_get($ng->url("/cgi-bin/$name?id=$name"), args => [
	    '-H', 'X-Set: client1', '-H', 'X-Set: client2',
	    '-H', 'X-Gone: secret1', '-H', 'X-Gone: secret2']);
	is($r->{code}, 200, "$name: 200") or diag("curl: $r->{err}");
	return split /\n/, $r->{body};
}

my @ref = twice('reference');
is_deeply([grep { /^HTTP_X_SET=/ } @ref],
    ['HTTP_X_SET=client1', 'HTTP_X_SET=client2'],
    'reference: nginx passes the header twice, both reach the program');

my @got = twice('environ');
is_deeply([grep { /^HTTP_X_SET=/ } @got], ['HTTP_X_SET=config'],
    'env_set: the program sees only the config\'s value');
is_deeply([grep { /^HTTP_X_GONE=/ } @got], [],
    'env_unset: the program sees no copy');
my $rec = wait_record($fx, 'environ', T(10)) // {};
is($rec->{HTTP_X_SET}, 'config', 'the shutdown command: the config\'s value');
ok(!exists $rec->{HTTP_X_GONE}, 'the shutdown command: no HTTP_X_GONE');

ok($ng->stop, 'nginx stopped') or diag($ng->stop_problem);
ok($cw->stop, 'cgiwrap stopped') or diag($cw->stop_problem);
done_testing;
