#!/usr/bin/perl
# The Debian package (debian/), as an administrator gets it on a machine
# without systemd (the CI: Debian 12, root):
#  - `make` without the libraries names the missing Debian packages;
#  - built from this tree with `make deb` (in a copy, under a temporary
#    directory), linked dynamically, lintian finds no error in it;
#  - `make LIBS_STATIC=yes` links libconfuse and libfcgi in, glibc shared;
#  - installed with apt-get: the binary, the manual pages, the conffiles,
#    the configuration's cache (postinst runs cgiwrap -t); the binary
#    needs only glibc (libconfuse and libfcgi are opened when needed);
#  - `a2enconf cgiwrap-action`, then an Apache of the test (configuration
#    generated under a temporary directory, a free port) including the
#    enabled file serves a script of /usr/lib/cgi-bin through cgiwrap;
#  - cgiwrap started as the installed cgiwrap.socket and cgiwrap.service
#    say (the socket at ListenStream with SocketMode and SocketUser on
#    descriptor 0, ExecStart as User=), behind an nginx of the test with
#    the installed sites-available/cgiwrap (its listen line moved to a
#    free port);
#  - the suEXEC helper, /usr/lib/apache2/suexec-cgiwrap, 4754
#    root:www-data as Debian's apache2-suexec-* ship theirs, registered as
#    the suexec alternative below their priority (10); the alternative is
#    held under Alternative.pm's lock from before the install to the end
#    (suexec.t changes it too);
#  - purged: dpkg knows nothing of it, the suexec alternative is as it was
#    before, and no path naming cgiwrap under /etc, /usr, /lib, /var/lib,
#    /var/cache or /run is left that was not there before.
# The machine is left as found (END purges the package and removes the
# script and /run/cgiwrap, also after a failed check).  A machine where
# the package is already installed fails the test: it is not replaced.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(abs_path);
use File::Find qw(find);
use File::Path qw(remove_tree);
use POSIX ();
use Time::HiRes qw(time);
use Harness qw(T);
use Alternative qw(alternative_lock alternative_state);
use Server qw(apache_started curl_get make_tempdir write_file slurp);
use Nginx qw(cgiwrap_behind_nginx cgiwrap_inherit_start nginx_start
    systemd_unit);

cgiwrap_behind_nginx(tools => [qw(curl apt-get dpkg-buildpackage lintian
    a2enconf setpriv)], www => 0);
my $TOP = abs_path("$FindBin::Bin/../..");
my $T0 = time;
my $t = abs_path(make_tempdir('deb'));
my $CGIBIN = '/usr/lib/cgi-bin';
my $RUN = '/run/cgiwrap';
my $SCRIPT = "deb-hello-$$.cgi";
my @APT = ('apt-get', '-y', '-q', '-o', 'DPkg::Lock::Timeout=' . T(300));
my ($installed, $made_cgibin, $made_run, @servers);

sub status {
	my $s = `dpkg-query -W -f='\${db:Status-Status}' cgiwrap 2>/dev/null`;
	return $s eq '' ? 'not-installed' : $s;
}

# COMMAND's output in LOG (appended); true when it exited 0.
sub run_logged {
	my ($log, @cmd) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $log) or POSIX::_exit(125);
		open(STDERR, '>&', \*STDOUT) or POSIX::_exit(125);
		$ENV{DEBIAN_FRONTEND} = 'noninteractive';
		{ no warnings 'exec'; exec { $cmd[0] } @cmd; }
		POSIX::_exit(127);
	}
	waitpid($pid, 0);
	return $? == 0;
}

# Every path whose name contains "cgiwrap" in the places a package fills
# (not /usr/local, the administrator's, where suexec.t may be at work).
sub cgiwrap_paths {
	my %p;
	find({ no_chdir => 1, wanted => sub {
		$File::Find::prune = 1 if $File::Find::name eq '/usr/local';
		$p{$File::Find::name} = 1 if /cgiwrap[^\/]*\z/;
	} }, grep { -d } qw(/etc /usr /lib /var/lib /var/cache /run));
	return \%p;
}

sub purge {
	return 1 unless $installed;
	$_->stop for grep { defined } @servers;
	remove_tree($RUN) if $made_run;
	$made_run = 0;
	my $ok = run_logged("$t/apt.log", @APT, 'purge', 'cgiwrap');
	$installed = 0 if status() eq 'not-installed';
	return $ok;
}

END {
	local ($?, $!, $@);
	purge() or print STDERR "# deb.t: purging cgiwrap failed, see $t/apt.log\n";
	unlink "$CGIBIN/$SCRIPT";
	rmdir $CGIBIN if $made_cgibin;
}

unless (is(status(), 'not-installed', 'the package cgiwrap is not '
    . 'installed on this machine (the test installs and purges it)')) {
	done_testing;
	exit 1;
}
ok(!-e $RUN, "$RUN does not exist (cgiwrap's socket goes there)")
    or do { done_testing; exit 1 };

# --- make on a machine without the libraries' -dev packages ---------------
# (pkg-config looking in an empty directory finds neither library)
{
	local $ENV{PKG_CONFIG_LIBDIR} = "$t/nolibs";
	local $ENV{PKG_CONFIG_PATH} = '';
	ok(!run_logged("$t/nolibs.log", 'make', '-C', $TOP,
	    '--no-print-directory', "O=$t/nolibs"), 'make without the '
	    . 'libraries fails');
	my $out = slurp("$t/nolibs.log");
	like($out, qr/missing Debian packages: libconfuse-dev libfcgi-dev\n/,
	    'make names the missing Debian packages');
	like($out, qr/make deps/, '... and how to get them');
	unlike($out, qr/\.h: No such file|-c -o /, '... before any compiler '
	    . 'ran') or diag($out);
}

# --- build ---------------------------------------------------------------
ok(run_logged("$t/build.log", 'make', '-C', $TOP, '--no-print-directory',
    'deb', "DEBDIR=$t/deb", "DEBOUT=$t"), 'make deb builds the package')
    or diag(slurp("$t/build.log"));
unlike(slurp("$t/build.log"), qr/^(?!dpkg-)\S.*: warning: /m,
    'it builds without a compiler or linker warning');
my $dry = `make -C '$TOP' --no-print-directory -n O='$t/dry' 2>&1`;
like($dry, qr{ -o \S*/dry/cgiwrap }, 'make -n shows the link');
unlike($dry, qr/-static/, 'make links dynamically by default');
# README, "Install": the two libraries linked in, glibc still shared.
ok(run_logged("$t/libs.log", 'make', '-C', $TOP, '--no-print-directory',
    "O=$t/libs", 'LIBS_STATIC=yes', "$t/libs/cgiwrap"),
    'make LIBS_STATIC=yes builds') or diag(slurp("$t/libs.log"));
my $needed = `readelf -d '$t/libs/cgiwrap' 2>&1`;
like($needed, qr/\(NEEDED\).*\[libc\.so\.6\]/,
    '... linked to the shared glibc');
unlike($needed, qr/\(NEEDED\).*(libconfuse|libfcgi)/,
    '... and to neither library: both are in it');
like(`'$t/libs/cgiwrap' -V`, qr/^cgiwrap \d/, '... and it runs');
my ($deb) = glob("$t/cgiwrap_0.1-1_*.deb");
ok($deb && -f $deb, 'make deb left cgiwrap_0.1-1_ARCH.deb')
    or do { done_testing; exit 1 };
my $depends = `dpkg-deb -f '$deb' Depends`;
like($depends, qr/\blibconfuse\d/, 'linked dynamically: it depends on '
    . 'the libconfuse shared library');
like($depends, qr/\blibfcgi/, '... and on the libfcgi one');
ok(run_logged("$t/lintian.log", 'lintian', '--fail-on', 'error', $deb),
    'lintian finds no error') or diag(slurp("$t/lintian.log"));
note("lintian: " . slurp("$t/lintian.log"));

# --- install -------------------------------------------------------------
ok(alternative_lock('suexec'), 'the suexec alternative is ours (no other '
    . 'test changes it)') or do { done_testing; exit 1 };
my $alt_before = alternative_state('suexec');
my $before = cgiwrap_paths();
$installed = 1;
ok(run_logged("$t/apt.log", @APT, 'install', '--no-install-recommends',
    $deb), 'apt-get install ./cgiwrap_*.deb') or diag(slurp("$t/apt.log"));
is(status(), 'installed', 'dpkg says it is installed');
for my $f (qw(/usr/bin/cgiwrap /usr/lib/cgiwrap/cgiwrap
    /usr/lib/cgiwrap/nph-cgiwrap /usr/share/man/man8/cgiwrap.8.gz /usr/share/man/man5/cgiwrap.conf.5.gz
    /lib/systemd/system/cgiwrap.socket /lib/systemd/system/cgiwrap.service)) {
	ok(-e $f, "$f is installed");
}
my %conffiles = map { (split ' ')[0] => 1 }
    split /\n/, `dpkg-query -W -f='\${Conffiles}\n' cgiwrap`;
for my $f (qw(/etc/cgiwrap.conf
    /etc/apache2/conf-available/cgiwrap-action.conf
    /etc/apache2/conf-available/cgiwrap-scriptalias.conf
    /etc/lighttpd/conf-available/10-cgiwrap.conf
    /etc/nginx/sites-available/cgiwrap)) {
	ok($conffiles{$f} && -f $f, "$f is a conffile");
	unlike(slurp($f), qr/\@[A-Z_]+\@/, "$f has no placeholder left");
}

# postinst's cgiwrap -t: the requests take the configuration from its
# cache; the binary needs only glibc, and opens libconfuse to parse.
my @cst = stat '/etc/cgiwrap.conf.cache';
ok(@cst && -f _ && $cst[4] == 0 && ($cst[2] & 022) == 0,
    '/etc/cgiwrap.conf.cache is written, root\'s, writable by root alone');
my $needs = `readelf -d /usr/bin/cgiwrap 2>&1`;
unlike($needs, qr/\(NEEDED\).*(libconfuse|libfcgi)/,
    '/usr/bin/cgiwrap loads neither library at its start');

# The suEXEC helper and its alternative.
my $SUEXEC = '/usr/lib/apache2/suexec-cgiwrap';
my @st = stat $SUEXEC;
ok(@st && -f _, "$SUEXEC is installed");
is(sprintf('%o', ($st[2] // 0) & 07777), '4754', '... mode 4754, setuid');
is($st[4], 0, '... owned by root');
is(scalar getgrgid($st[5] // -1), 'www-data', '... group www-data');
my ($alt) = grep { /^Alternative: \Q$SUEXEC\E$/m }
    split /\n\n/, alternative_state('suexec');
ok($alt, "$SUEXEC is an alternative of suexec")
    or diag(alternative_state('suexec'));
my ($prio) = ($alt // '') =~ /^Priority: (-?\d+)$/m;
is($prio, 5, '... of priority 5, below apache2-suexec-*\'s 10');
like($alt // '', qr{^ suexec\.8\.gz /usr/share/man/man8/cgiwrap\.8\.gz$}m,
    '... with cgiwrap.8 as its suexec.8');
if ($alt_before eq '') {
	is(abs_path('/usr/lib/apache2/suexec'), $SUEXEC, 'the only one, '
	    . 'it is the one Apache runs, /usr/lib/apache2/suexec');
}
ok(!-e '/etc/systemd/system/sockets.target.wants/cgiwrap.socket',
    'the socket unit is not enabled');
ok(!-e '/etc/apache2/conf-enabled/cgiwrap-action.conf',
    'the Apache configuration is not enabled');

# The program both servers run; $CGIBIN is in the installed roots.
$made_cgibin = !-d $CGIBIN && mkdir($CGIBIN, 0755);
write_file("$CGIBIN/$SCRIPT", 0755, <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n%s %s\n' "$(id -un)" \
    "${CGIWRAP_CONTROL_FD:+through cgiwrap}"
EOF
my $want = "www-data through cgiwrap\n";

# --- Apache: a2enconf cgiwrap-action -------------------------------------
ok(run_logged("$t/a2enconf.log", 'a2enconf', 'cgiwrap-action'),
    'a2enconf cgiwrap-action');
my $enabled = '/etc/apache2/conf-enabled/cgiwrap-action.conf';
ok(-l $enabled && -f $enabled, "$enabled links to the installed file");
my $ap = apache_started('Apache including the enabled configuration',
    mpm => 'event', cgi => 'mod_cgid', dir => "$t/apache",
    conf => "Include $enabled\n");
push @servers, $ap;
if ($ap) {
	my $r = curl_get($ap->url("/cgi-bin/$SCRIPT"), max_time => T(20));
	is($r->{code}, 200, 'Apache: 200') or diag($r->{err}, $ap->error_log);
	is($r->{body}, $want, 'Apache: the script ran as www-data under '
	    . 'the installed cgiwrap');
	$ap->stop;
}

# --- FastCGI as the systemd units say, behind nginx ------------------------
my $sock = systemd_unit('/lib/systemd/system/cgiwrap.socket');
my $svc = systemd_unit('/lib/systemd/system/cgiwrap.service');
my $one = sub { my ($u, $k) = @_; return ($u->{$k} // [])->[-1] // '' };
my $listen = $one->($sock, 'Socket.ListenStream');
is($listen, "$RUN/cgiwrap.sock", "the socket is $RUN/cgiwrap.sock");
my @exec = split ' ', $one->($svc, 'Service.ExecStart');
is($exec[0], '/usr/bin/cgiwrap', 'ExecStart runs the installed cgiwrap');
my ($conf, @args);
for (my $i = 1; $i < @exec; $i++) {
	if ($exec[$i] eq '-c') {
		$conf = $exec[++$i];
	} else {
		push @args, $exec[$i];
	}
}
is($conf, '/etc/cgiwrap.conf', 'ExecStart reads /etc/cgiwrap.conf');
my $user = $one->($svc, 'Service.User') || 'root';
my $group = $one->($svc, 'Service.Group') || $user;
my ($workers) = join(' ', @args) =~ /-w (\d+)/;
# systemd makes the socket's directory.
$made_run = mkdir($RUN, 0755) or die "mkdir $RUN: $!";
my $cw = cgiwrap_inherit_start(bin => $exec[0], conf => $conf,
    args => \@args, listen => "unix:$listen", dir => $t, tag => 'deb',
    mode => oct($one->($sock, 'Socket.SocketMode')),
    owner => $one->($sock, 'Socket.SocketUser') || 'root',
    wrap => ['setpriv', "--reuid=$user", "--regid=$group", '--init-groups',
    '--']);
push @servers, $cw;
ok($cw->wait_workers($workers // 1, T(15)), 'cgiwrap started as the '
    . 'units say, ' . ($workers // 1) . ' workers') or diag($cw->out);
my $site = slurp('/etc/nginx/sites-available/cgiwrap');
my $ng = eval {
	nginx_start(dir => "$t/nginx", conf => sub {
		my ($port) = @_;
		(my $s = $site) =~ s/^(\s*listen\s+)80;/${1}127.0.0.1:$port;/m
		    or die "no 'listen 80;' in the installed site\n";
		return $s;
	});
};
ok($ng, 'nginx with the installed sites-available/cgiwrap') or diag($@);
push @servers, $ng;
if ($ng) {
	my $r = curl_get($ng->url("/cgi-bin/$SCRIPT"), max_time => T(20));
	is($r->{code}, 200, 'nginx: 200') or diag($r->{err}, $ng->error_log,
	    $cw->out);
	is($r->{body}, $want, "nginx: the script ran as $user under the "
	    . 'installed cgiwrap');
	$ng->stop;
}
ok($cw->stop, 'cgiwrap stops on SIGTERM (systemctl stop)')
    or diag($cw->stop_problem);

# --- purge ---------------------------------------------------------------
unlink "$CGIBIN/$SCRIPT";
ok(purge(), 'apt-get purge cgiwrap') or diag(slurp("$t/apt.log"));
is(status(), 'not-installed', 'dpkg says it is not installed');
ok(!-e $enabled && !-l $enabled, 'the enabled Apache configuration is gone');
is(alternative_state('suexec'), $alt_before,
    'the suexec alternative is as it was before the install');
ok(!-e $SUEXEC, "$SUEXEC is gone");
my $after = cgiwrap_paths();
my @left = sort grep { !$before->{$_} } keys %$after;
is("@left", '', 'nothing named cgiwrap is left that was not there before');
my @gone = sort grep { !$after->{$_} } keys %$before;
is("@gone", '', 'and nothing that was there before is gone');

note(sprintf('deb.t took %.1f s', time - $T0));
done_testing;
