#!/usr/bin/perl
# libconfuse and libfcgi, each opened when its part of cgiwrap first runs
# (src/libs.c):
#  - a CGI request never maps libfcgi: the supervisor, a fork of the
#    front, shows the front's mappings to the program (/proc/PPID/maps);
#  - with the library file made unreadable in a mount namespace of the
#    test's own: cgiwrap -f exits 125 before it listens, naming libfcgi
#    and its Debian package; a CGI request whose configuration is cached
#    (cgiwrap -t) is served without libconfuse, one whose configuration
#    must be parsed gets a 500 and a message naming libconfuse and its
#    package.
# A build with the libraries linked in (LIBS_LINKED) opens nothing: the
# second part is skipped for it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

my $t = Harness->new;
my $prog = $t->script('maps.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\n'
cat "/proc/$PPID/maps"
SH
my $r = $t->run(mode => 'pipes', argv => [$prog]);
is($r->finish(T(10)), 0, 'a CGI request: the front exits 0');
my (undef, $maps) = $r->response;
like($maps // '', qr{\[stack\]}, '... the program read its supervisor\'s '
    . 'mappings');
unlike($maps // '', qr{/libfcgi\.so}, '... and libfcgi is not among them');

SKIP: {
	open(my $fh, '<:raw', $Harness::CGIWRAP) or die "$Harness::CGIWRAP: $!";
	my $bin = do { local $/; <$fh> };
	skip 'the libraries are linked in (LIBS_LINKED)', 10
	    unless $bin =~ /libfcgi\.so\.0\0/;
	skip 'needs root and unshare(1) for a mount namespace', 10
	    unless $> == 0 && system('unshare --mount true 2>/dev/null') == 0;
	my ($lib) = `ldconfig -p` =~ m{libfcgi\.so\.0 \(.*?\) => (\S+)};
	skip 'libfcgi.so.0 is not installed', 10 unless defined $lib;
	my $sock = $t->path('fcgi.sock');
	my ($done, $code, undef, $err) = without($lib, 'fcgi', '-f', '-s',
	    "unix:$sock", '-c', $t->conf);
	ok($done, 'cgiwrap -f without libfcgi ends at once');
	is($code, 125, '... with status 125');
	my $says = 'cgiwrap: FastCGI mode needs libfcgi '
	    . '(Debian: libfcgi0ldbl): ';
	like($err, qr{^\Q$says\E.*libfcgi\.so\.0}, '... saying which '
	    . 'library it misses');
	ok(!-e $sock, '... before it listens');

	my ($confuse) = `ldconfig -p` =~ m{libconfuse\.so\.2 \(.*?\) => (\S+)};
	skip 'libconfuse.so.2 is not installed', 6 unless defined $confuse;
	my $hello = $t->script('hello.sh', <<'SH');
printf 'Content-Type: text/plain\r\n\r\nhello\n'
SH
	is(`'$Harness::CGIWRAP' -t -c '@{[$t->conf]}'`, "syntax ok\n",
	    'cgiwrap -t caches the configuration');
	my $out;
	($done, $code, $out) = without($confuse, 'cached', '-c', $t->conf,
	    '--', $hello);
	ok($done && $code == 0, 'without libconfuse, a request of a cached '
	    . 'configuration exits 0');
	like($out, qr/\r\n\r\nhello\n\z/, '... and gets its response');
	# Another text, if only by a comment, makes the cache stale.
	$t->write_file('cgiwrap.conf', slurp($t->conf) . "# edited\n");
	($done, $code, $out, $err) = without($confuse, 'parsed', '-c',
	    $t->conf, '--', $hello);
	ok($done && $code != 0, 'one whose configuration must be parsed fails');
	like($out, qr/^Status: 500 /, '... with a 500');
	my $needs = $t->conf . ': reading it needs libconfuse (Debian: '
	    . 'libconfuse2): ';
	like($err, qr/^cgiwrap:\ \Q$needs\E.*
	    libconfuse\.so\.2/mx, '... saying which library it misses');
}

# cgiwrap ARGS with LIB unreadable, its output in NAME.out and NAME.err:
# whether it ended within 10 s (else it is killed), its exit status, its
# output and error output.
sub without {
	my ($lib, $name, @args) = @_;
	my ($out, $err) = ($t->path("$name.out"), $t->path("$name.err"));
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $out) or POSIX::_exit(126);
		open(STDERR, '>', $err) or POSIX::_exit(126);
		no warnings 'exec';
		exec('unshare', '--mount', '--propagation', 'private', '--',
		    'sh', '-c', 'mount --bind /dev/null "$1" && shift && '
		    . 'exec "$@"', 'sh', $lib, $Harness::CGIWRAP, @args);
		POSIX::_exit(127);
	}
	my $done = wait_for(sub { waitpid($pid, POSIX::WNOHANG()) == $pid },
	    T(10));
	unless ($done) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
	return ($done, $? >> 8, slurp($out), slurp($err));
}

done_testing;
