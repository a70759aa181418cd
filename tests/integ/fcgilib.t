#!/usr/bin/perl
# libfcgi serves FastCGI mode alone (src/fcgilib.c):
#  - a CGI request never maps it: the supervisor, a fork of the front,
#    shows the front's mappings to the program (/proc/PPID/maps);
#  - cgiwrap -f without it (the library file made unreadable in a mount
#    namespace of the test's own) exits 125 before it listens, naming the
#    library and the Debian package that ships it.
# A build with libfcgi linked in (FCGI_LINKED) opens nothing: the second
# part is skipped for it.
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
	skip 'libfcgi is linked in (FCGI_LINKED)', 4
	    unless $bin =~ /libfcgi\.so\.0\0/;
	skip 'needs root and unshare(1) for a mount namespace', 4
	    unless $> == 0 && system('unshare --mount true 2>/dev/null') == 0;
	my ($lib) = `ldconfig -p` =~ m{libfcgi\.so\.0 \(.*?\) => (\S+)};
	skip 'libfcgi.so.0 is not installed', 4 unless defined $lib;
	my $sock = $t->path('fcgi.sock');
	my $err = $t->path('fcgi.err');
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDERR, '>', $err) or POSIX::_exit(126);
		no warnings 'exec';
		exec('unshare', '--mount', '--propagation', 'private', '--',
		    'sh', '-c', 'mount --bind /dev/null "$1" && shift && '
		    . 'exec "$@"', 'sh', $lib, $Harness::CGIWRAP, '-f', '-s',
		    "unix:$sock", '-c', $t->conf);
		POSIX::_exit(127);
	}
	my $done = wait_for(sub { waitpid($pid, POSIX::WNOHANG()) == $pid },
	    T(10));
	unless ($done) {
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
	ok($done, 'cgiwrap -f without libfcgi ends at once');
	is($? >> 8, 125, '... with status 125');
	my $says = 'cgiwrap: FastCGI mode needs libfcgi '
	    . '(Debian: libfcgi0ldbl): ';
	like(slurp($err), qr{^\Q$says\E.*libfcgi\.so\.0}, '... saying which '
	    . 'library it misses');
	ok(!-e $sock, '... before it listens');
}

done_testing;
