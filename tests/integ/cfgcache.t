#!/usr/bin/perl
# The configuration's cache (src/cfgcache.c), as a user sees it:
#  - cgiwrap -t says "syntax ok" and writes CONF.cache;
#  - a request then takes its configuration from the cache: the value of
#    an env_set is the file's, and libconfuse is never loaded (the
#    program's parent, the supervisor, is a fork of the front: its
#    /proc/PID/maps are the front's);
#  - the file edited without -t, at once, its size the same: the next
#    request parses it (its new value, libconfuse loaded); -t again, and
#    the cache is used again;
#  - the file written again, or replaced by a rename, with the same
#    text: the cache is still used (it is the text's);
#  - a cache writable by its group is ignored;
#  - -t by a user who is not the file's owner still says "syntax ok",
#    exits 0, says nothing on stderr, and writes no cache: not where it
#    may not write, nor where it may (a good cache there is left as it
#    is, and still used);
#  - a config readable by its group (0640 root:GROUP, as for the web
#    server's user): the cache is root:GROUP 0640 too, and the requests
#    of a member of GROUP take it.
# A build with libconfuse linked in (LIBS_LINKED, STATIC) maps no
# libconfuse.so either way: the checks of the mappings are skipped there.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

# A dynamic build names the library (to dlopen it, or as DT_NEEDED).
my $DYNAMIC = do {
	open(my $fh, '<:raw', $Harness::CGIWRAP) or die "$Harness::CGIWRAP: $!";
	local $/;
	<$fh> =~ /libconfuse\.so/;
};

my $CGI_ENV = { GATEWAY_INTERFACE => undef, QUERY_STRING => undef };

# cgiwrap -t -c CONF (WRAP before it, e.g. setpriv): exit code, stdout,
# stderr.
sub syntax_check {
	my ($t, @wrap) = @_;
	my $r = $t->run(cmd => [@wrap, $Harness::CGIWRAP, '-t', '-c', $t->conf],
	    env => $CGI_ENV);
	my $code = $r->finish(T(10));
	return ($code, $r->stdout, $r->stderr);
}

# -t must succeed silently and leave CONF.cache.
sub cached_by_t {
	my ($t, $what) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	unlink $t->conf . '.cache';
	my ($code, $out, $err) = syntax_check($t);
	is($code, 0, "$what: cgiwrap -t exits 0");
	is($out, "syntax ok\n", "$what: it says syntax ok");
	is($err, '', "$what: nothing on stderr");
	ok(-f $t->conf . '.cache', "$what: CONF.cache written");
}

# One request of the program (WRAP before cgiwrap, e.g. setpriv): the
# value of CACHED it saw, and its supervisor's mappings.
sub request {
	my ($t, $prog, $what, @wrap) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $r = $t->run(mode => 'pipes', cmd => [@wrap, $Harness::CGIWRAP,
	    '-c', $t->conf, '--', $prog]);
	is($r->finish(T(10)), 0, "$what: the request exits 0")
	    or diag('stderr: ' . $r->stderr);
	my (undef, $body) = $r->response;
	$body //= '';
	my ($cached) = $body =~ /^CACHED=(.*)$/m;
	like($body, qr/\[stack\]/, "$what: the program read its parent's maps");
	# Each request runs the harness's shutdown command once: wait for
	# it, so that the next request's record is its own.
	ok($t->wait_quiet(T(5)), "$what: nothing of the request left");
	return ($cached, $body);
}

sub confuse_mapped {
	my ($maps, $want, $what) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	SKIP: {
		skip 'libconfuse is linked in: no libconfuse.so to see', 1
		    unless $DYNAMIC;
		# ok() rather than like(): a failure shows the lines that
		# matter, not the whole of the maps.
		my @lines = grep { m{/libconfuse\.so} } split /\n/, $maps;
		ok($want ? @lines > 0 : @lines == 0, "$what: libconfuse is "
		    . ($want ? 'mapped (the file was parsed)'
		    : 'not mapped (the cache was used)'))
		    or diag(join("\n", @lines) || 'no libconfuse.so line');
	}
}

# The file written again, in place (its inode kept), at once: no clock
# tick is waited for, the cache must tell by the text alone.
sub edit_conf {
	my ($t, $text) = @_;
	my $ino = (stat($t->conf))[1];
	$t->write_file('cgiwrap.conf', $text, 0644);
	return (stat($t->conf))[1] == $ino && slurp($t->conf) eq $text;
}

# The user nobody and its group, as setpriv's arguments: () if none.
sub as_nobody {
	my ($nobody, $nogroup) = ((getpwnam('nobody'))[2],
	    (getgrnam('nogroup'))[2] // (getgrnam('nobody'))[2]);
	return () unless defined $nobody && defined $nogroup && $nogroup != 0;
	return ($nobody, $nogroup, 'setpriv', "--reuid=$nobody",
	    "--regid=$nogroup", '--clear-groups', '--');
}

# The temporary files of a save left in the directory of t.
sub leftovers {
	my ($t) = @_;
	opendir(my $d, $t->dir) or die $t->dir . ": $!";
	return [grep { /^cgiwrap\.conf\.cache./ } readdir $d];
}

my $PROG = <<'SH';
printf 'Content-Type: text/plain\r\n\r\n'
echo "CACHED=$CACHED"
cat "/proc/$PPID/maps"
SH

subtest 'a request takes the cache of cgiwrap -t, else parses the file' => sub {
	my $t = Harness->new(conf => { env_set => '{"CACHED=one"}' });
	my $prog = $t->script('maps.sh', $PROG);

	cached_by_t($t, 'first -t');
	my ($v, $maps) = request($t, $prog, 'cached');
	is($v, 'one', 'cached: the env_set of the file');
	confuse_mapped($maps, 0, 'cached');

	# The same size, written in place: only the file's times tell.
	my $text = slurp($t->conf);
	ok($text =~ s/CACHED=one/CACHED=two/, 'the config holds CACHED=one');
	ok(edit_conf($t, $text), 'config edited to CACHED=two at once, in '
	    . 'place, no -t');
	($v, $maps) = request($t, $prog, 'stale');
	is($v, 'two', 'stale cache: the new value, from the file');
	confuse_mapped($maps, 1, 'stale cache');

	cached_by_t($t, '-t after the edit');
	($v, $maps) = request($t, $prog, 'cached again');
	is($v, 'two', 'cached again: the new value');
	confuse_mapped($maps, 0, 'cached again');

	# The same text, on a new inode or not: still the cache's.
	ok(edit_conf($t, $text), 'config written again, the same text');
	($v, $maps) = request($t, $prog, 'the same text');
	is($v, 'two', 'the same text written again: the value');
	confuse_mapped($maps, 0, 'the same text written again');
	my $ino = (stat($t->conf))[1];
	$t->write_file('new.conf', $text, 0644);
	ok(rename($t->path('new.conf'), $t->conf)
	    && (stat($t->conf))[1] != $ino,
	    'config replaced by a rename, the same text');
	($v, $maps) = request($t, $prog, 'renamed, the same text');
	is($v, 'two', 'a new file of the same text: the value');
	confuse_mapped($maps, 0, 'a new file of the same text');

	ok(chmod(0664, $t->conf . '.cache'), 'cache made mode 0664');
	($v, $maps) = request($t, $prog, 'group-writable cache');
	is($v, 'two', 'group-writable cache: the value from the file');
	confuse_mapped($maps, 1, 'group-writable cache');
	ok(chmod(0644, $t->conf . '.cache'), 'cache mode 0644 again');
	($v, $maps) = request($t, $prog, 'cache 0644 again');
	is($v, 'two', 'cache 0644 again: the value');
	confuse_mapped($maps, 0, 'cache 0644 again');

	# A cache copied from another configuration is not this file's.
	my $u = Harness->new(conf => { env_set => '{"CACHED=own"}' });
	cached_by_t($u, 'another config');
	my $cache = slurp($u->conf . '.cache');
	$t->write_file('cgiwrap.conf.cache', $cache, 0644);
	($v, $maps) = request($t, $prog, 'another config\'s cache');
	is($v, 'two', 'another config\'s cache: this file\'s value');
	confuse_mapped($maps, 1, 'another config\'s cache');

	# Nothing but the cache is left beside the file by -t.
	is_deeply(leftovers($t), [], 'no temporary cache file left');
};

subtest 'cgiwrap -t by a user who is not the file\'s owner' => sub {
	plan skip_all => 'needs root to run cgiwrap -t as nobody' if $> != 0;
	my (undef, undef, @as_nobody) = as_nobody();
	plan skip_all => 'needs the user nobody and its group'
	    unless @as_nobody;
	my $t = Harness->new(conf => { env_set => '{"CACHED=one"}' });
	my $prog = $t->script('maps.sh', $PROG);
	# World-readable, writable by root alone: nobody may read the file,
	# not write beside it.
	ok(chmod(0755, $t->dir) && chmod(0644, $t->conf),
	    'directory 0755 and config 0644, both root\'s');
	my ($code, $out, $err) = syntax_check($t, @as_nobody);
	is($code, 0, 'cgiwrap -t as nobody exits 0');
	is($out, "syntax ok\n", '... says syntax ok');
	is($err, '', '... and nothing on stderr');
	ok(!-e $t->conf . '.cache', '... and writes no cache');
	is_deeply(leftovers($t), [], '... nor any temporary file');

	# Where it may write: root's good cache is left alone all the same
	# (a cache of nobody's would be refused).
	cached_by_t($t, 'root\'s -t');
	ok(chmod(0777, $t->dir), 'directory made writable by all');
	my $cache = slurp($t->conf . '.cache');
	my $ino = (stat($t->conf . '.cache'))[1];
	($code, $out, $err) = syntax_check($t, @as_nobody);
	is($code, 0, 'cgiwrap -t as nobody, directory 0777: exits 0');
	is($out, "syntax ok\n", '... says syntax ok');
	is($err, '', '... and nothing on stderr');
	my @st = lstat($t->conf . '.cache');
	ok(@st && -f _ && $st[1] == $ino && $st[4] == 0,
	    '... the cache is root\'s, the same inode');
	is(slurp($t->conf . '.cache'), $cache, '... the same bytes');
	is_deeply(leftovers($t), [], '... no temporary file');
	my ($v, $maps) = request($t, $prog, 'root\'s good cache');
	is($v, 'one', 'a request takes the file\'s value');
	confuse_mapped($maps, 0, 'root\'s good cache');

	# A stale cache of root's stays as it is, and is not used.
	my $text = slurp($t->conf);
	$text =~ s/CACHED=one/CACHED=two/;
	ok(edit_conf($t, $text), 'config edited to CACHED=two');
	($code, $out, $err) = syntax_check($t, @as_nobody);
	is($code, 0, 'cgiwrap -t as nobody, stale cache: exits 0');
	is($out, "syntax ok\n", '... says syntax ok');
	is($err, '', '... and nothing on stderr');
	is((stat($t->conf . '.cache'))[1], $ino, '... the same cache file');
	is(slurp($t->conf . '.cache'), $cache, '... its bytes untouched');
	($v, $maps) = request($t, $prog, 'stale cache');
	is($v, 'two', 'a request takes the file\'s value');
	confuse_mapped($maps, 1, 'stale cache');
};

subtest 'a config readable by its group: the group\'s requests' => sub {
	plan skip_all => 'needs root to run cgiwrap as nobody' if $> != 0;
	my ($nobody, $nogroup, @as_nobody) = as_nobody();
	plan skip_all => 'needs the user nobody and its group'
	    unless @as_nobody;
	my $t = Harness->new(conf => { env_set => '{"CACHED=one"}' });
	# The requests run as nobody: its log lines and shutdown records.
	chmod 0777, $t->dir, $t->path('rec');
	ok(chown(0, $nogroup, $t->conf) && chmod(0640, $t->conf),
	    'config 0640, root\'s, of nobody\'s group');
	cached_by_t($t, 'root\'s -t');
	my @st = stat($t->conf . '.cache');
	is($st[4], 0, 'the cache is root\'s');
	is($st[5], $nogroup, 'the cache has the config\'s group');
	is($st[2] & 07777, 0640, 'the cache has the config\'s mode');
	my $prog = $t->script('maps.sh', $PROG);
	my ($v, $maps) = request($t, $prog, 'nobody\'s request', @as_nobody);
	is($v, 'one', 'nobody\'s request: the env_set of the file');
	confuse_mapped($maps, 0, 'nobody\'s request');
};

done_testing;
