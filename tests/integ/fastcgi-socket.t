#!/usr/bin/perl
# How cgiwrap gets its FastCGI socket (issue 5, item 1; R-FCGI-1):
#  - `-f -s unix:PATH`: the socket gets the -m mode (default 0660); a stale
#    socket file is replaced; a live socket, a regular file and a symlink
#    are refused (exit 125, a stderr line) and left alone;
#  - a listening socket inherited on descriptor 0, without -f (as
#    spawn-fcgi, mod_fcgid, systemd StandardInput=socket give it), unix
#    and TCP, behind nginx: requests are served, -w defaults to the
#    number of CPUs;
#  - the command line of etc/spawn-fcgi.txt, run as written (placeholders
#    filled in), behind nginx with etc/nginx.conf: programs run as the
#    user it names;
#  - etc/cgiwrap.socket + etc/cgiwrap.service: the settings that matter
#    (Accept=no, StandardInput=socket, no -f, stdout/stderr not on the
#    socket), then what systemd would do with them (socket with
#    SocketMode and SocketUser on descriptor 0, ExecStart as User=), run
#    behind nginx.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(abs_path);
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM SOMAXCONN);
use Time::HiRes qw(time);
use Server qw(T curl_get wait_for slurp parse_env write_file spawn
    chown_www www_user instantiate proc_cmdline);
use Nginx qw(:all);

my $CGIWRAP = cgiwrap_behind_nginx(tools => [qw(curl spawn-fcgi)], www => 1);
my $TOP = abs_path("$FindBin::Bin/../..");
my $T0 = time;
my $WWW = www_user();

sub have { my ($p) = @_; return scalar grep { -x "$_/$p" } split /:/, $ENV{PATH} }

sub failures { scalar grep { !$_ } Test::More->builder->summary }

my $fx = fcgi_fixture(tag => 'fastcgi-socket');
my $t = $fx->{dir};
write_file("$fx->{prog}/whoami", 0755, <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
id -un
EOF
# Programs run as www-data in the last two cases: their state is theirs.
chown_www($fx->{rec}, $fx->{var});
note("files in $t");

sub hello_ok {
	my ($addr) = @_;
	my $r = fcgi_request($addr, params => [SCRIPT_FILENAME =>
	    "$fx->{prog}/hello", REQUEST_METHOD => 'GET',
	    QUERY_STRING => 'id=direct'], timeout => T(20));
	return $r->{end} && $r->{stdout} =~ /\r?\n\r?\nhello from cgiwrap\n\z/;
}

# cgiwrap -f on ARGS expected to refuse: (exit status, stderr).
sub refused {
	my ($tag, @args) = @_;
	my $cw = cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
	    dir => $fx->{var}, tag => $tag, wait => 0, @args);
	my $gone = $cw->wait_exit(T(10));
	$cw->stop unless $gone;
	return ($gone ? $cw->exit_status : undef, $cw->out);
}

sub ino { my @st = lstat $_[0]; return @st ? "$st[0]:$st[1]" : '' }

# --- -s unix:PATH and -m -------------------------------------------------------
{
	my $f0 = failures();
	my $path = "$t/var/default.sock";
	my $cw = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
	    socket => "unix:$path", dir => $fx->{var}, workers => 1,
	    tag => 'default') };
	ok($cw, '-s unix: cgiwrap answers') or diag($@);
	ok(-S $path, '-s unix: the path is a socket');
	is(sprintf('%04o', (stat $path)[2] & 07777), '0660',
	    '-s unix: default mode 0660');
	ok($cw && hello_ok($cw->socket), '-s unix: serves a request');
	ok($cw && $cw->stop, '-s unix: stops on SIGTERM')
	    or diag($cw ? $cw->stop_problem : '');
	ok(!-e $path, '-s unix: the socket file is removed at exit');

	$path = "$t/var/mode.sock";
	$cw = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
	    socket => "unix:$path", dir => $fx->{var}, workers => 1,
	    mode => '0600', tag => 'mode') };
	ok($cw, '-m 0600: cgiwrap answers') or diag($@);
	is(sprintf('%04o', (stat $path)[2] & 07777), '0600',
	    '-m 0600: the socket has mode 0600');
	$cw->stop if $cw;

	my ($st, $out) = refused('badmode', socket => "unix:$t/var/bad.sock",
	    mode => '0999');
	is($st // -1, 125 << 8, '-m 0999: refused with exit 125');
	like($out, qr/^cgiwrap: .*0999/m, '-m 0999: a stderr line says why');

	# A stale socket: its server is gone, the file is left.
	$path = "$t/var/stale.sock";
	my $old = IO::Socket::UNIX->new(Local => $path, Type => SOCK_STREAM,
	    Listen => 1) or die "listen $path: $!";
	close $old;
	chmod 0777, $path;
	ok(-S $path && !fcgi_connect("unix:$path", 1),
	    'stale: a socket file (mode 0777) nobody listens on');
	$cw = eval { cgiwrap_start(bin => $CGIWRAP, conf => $fx->{conf},
	    socket => "unix:$path", dir => $fx->{var}, workers => 1,
	    tag => 'stale') };
	ok($cw, 'stale: cgiwrap starts on it') or diag($@);
	is(sprintf('%04o', (stat $path)[2] & 07777), '0660',
	    'stale: the file was replaced by a new socket (mode 0660)');
	ok($cw && hello_ok($cw->socket), 'stale: serves a request');
	$cw->stop if $cw;

	# A live socket: somebody else serves on it.
	$path = "$t/var/live.sock";
	my $live = IO::Socket::UNIX->new(Local => $path, Type => SOCK_STREAM,
	    Listen => 5) or die "listen $path: $!";
	my $before = ino($path);
	($st, $out) = refused('live', socket => "unix:$path");
	is($st // -1, 125 << 8, 'live: refused with exit 125');
	like($out, qr/^cgiwrap: .*\Q$path\E.*in use/m,
	    'live: a stderr line names the path');
	is(ino($path), $before, 'live: the socket file is left alone');
	my $c = IO::Socket::UNIX->new(Peer => $path, Type => SOCK_STREAM);
	ok($c && $live->accept, 'live: its server still gets connections');
	close $live;

	# Not a socket: a regular file, a symlink to one.
	$path = "$t/var/precious";
	write_file($path, 0644, "precious data\n");
	($st, $out) = refused('file', socket => "unix:$path");
	is($st // -1, 125 << 8, 'regular file: refused with exit 125');
	like($out, qr/^cgiwrap: .*\Q$path\E.*not a socket/m,
	    'regular file: a stderr line names the path');
	is(slurp($path), "precious data\n", 'regular file: left intact');
	symlink($path, "$t/var/link.sock") or die "symlink: $!";
	($st, $out) = refused('link', socket => "unix:$t/var/link.sock");
	is($st // -1, 125 << 8, 'symlink: refused with exit 125');
	ok(-l "$t/var/link.sock" && slurp($path) eq "precious data\n",
	    'symlink: it and its target are left intact');
	diag("---- cgiwrap output:\n" . join('', map { "$_: " . slurp($_) }
	    glob("$t/var/cgiwrap.*.out"))) if failures() > $f0;
}

# nginx (etc/nginx.conf) in front of ADDR: the /cgi-bin/whoami answer
# (user name) and the record of a hello request with ID.
sub through_nginx {
	my ($tag, $addr, $id) = @_;
	my $ng = eval { nginx_start(dir => "$t/nginx-$tag", conf => sub {
		my ($port) = @_;
		return nginx_snippet(LISTEN => "127.0.0.1:$port",
		    ROOT => $fx->{prog}, SOCKET => $addr);
	}) };
	ok($ng, "$tag: nginx started") or diag($@);
	return ('', undef) unless $ng;
	my $r = curl_get($ng->url("/cgi-bin/hello?id=$id"), max_time => T(20));
	is($r->{code}, 200, "$tag: a request through nginx: 200")
	    or diag("curl: $r->{err}\n" . $ng->error_log);
	is($r->{body}, "hello from cgiwrap\n", "$tag: the body");
	my $rec = wait_record($fx, $id, T(10)) // {};
	is($rec->{CGIWRAP_STATUS}, '0', "$tag: the shutdown record, status 0");
	$r = curl_get($ng->url("/cgi-bin/whoami?id=$id-who"), max_time => T(20));
	$ng->stop;
	return ($r->{code} eq '200' ? $r->{body} : "HTTP $r->{code}", $rec);
}

# --- An inherited listening socket on descriptor 0 ---------------------------
chomp(my $ncpu = `getconf _NPROCESSORS_ONLN 2>/dev/null` || 1);
for my $kind (qw(unix tcp)) {
	my $f0 = failures();
	my $tag = "inherit-$kind";
	my $cw = cgiwrap_inherit_start(bin => $CGIWRAP, conf => $fx->{conf},
	    listen => $kind, dir => $fx->{var}, tag => $tag);
	my @w = $cw->wait_workers($ncpu, T(15));
	is(scalar @w, $ncpu, "$tag: cgiwrap -c CONF (no -f) serves with "
	    . "$ncpu workers, the CPU count") or diag($cw->out);
	ok(hello_ok($cw->socket), "$tag: a FastCGI request is served");
	my ($who) = through_nginx($tag, $cw->socket, $tag);
	is($who, "root\n", "$tag: the program runs as cgiwrap's user");
	ok($cw->stop, "$tag: cgiwrap stops on SIGTERM")
	    or diag($cw->stop_problem);
	diag("---- $tag output:\n" . $cw->out) if failures() > $f0;
}

# --- etc/spawn-fcgi.txt ------------------------------------------------------
{
	my $f0 = failures();
	my $tag = 'spawn-fcgi';
	my $text = instantiate("$TOP/etc/spawn-fcgi.txt",
	    SOCKET_PATH => "$t/var/spawn.sock", USER => $WWW,
	    CGIWRAP => $CGIWRAP, CONF => $fx->{conf});
	my @lines = grep { !/^\s*(?:#|$)/ } split /\n/, $text;
	is(scalar @lines, 1, "$tag: the file holds one command line");
	my @argv = split ' ', $lines[0] // '';
	is($argv[0], 'spawn-fcgi', "$tag: it runs spawn-fcgi");
	my $out = "$t/var/cgiwrap.$tag.out";
	my $pid = spawn(\@argv, $out);
	my $cw = Nginx->new(name => $tag, pid => $pid, out => $out,
	    error_log => $out, socket => "unix:$t/var/spawn.sock",
	    leftover => qr/^\Q$CGIWRAP\E -c \Q$fx->{conf}\E /);
	# (A probe connection is closed at once: an idle one would sit in
	# libfcgi's 2 s wait for data, see fastcgi-malformed.t.)
	my $up = wait_for(sub {
		my $c = fcgi_connect($cw->socket, 1) or return 0;
		close $c;
		return 1;
	}, T(15));
	ok($up, "$tag: cgiwrap answers on the socket") or diag(slurp($out));
	my @st = stat "$t/var/spawn.sock";
	is(sprintf('%04o', ($st[2] // 0) & 07777), '0660', "$tag: mode 0660");
	is(scalar getpwuid($st[4] // 0), $WWW, "$tag: owned by $WWW");
	like(proc_cmdline($pid) // '', qr/^\Q$CGIWRAP\E -c /,
	    "$tag: spawn-fcgi -n became cgiwrap (no fork)");
	if ($up) {
		my ($who) = through_nginx($tag, $cw->socket, $tag);
		is($who, "$WWW\n", "$tag: the program runs as $WWW");
	}
	ok($cw->stop, "$tag: cgiwrap stops on SIGTERM")
	    or diag($cw->stop_problem);
	diag("---- $tag output:\n" . slurp($out)) if failures() > $f0;
}

# --- etc/cgiwrap.socket + etc/cgiwrap.service --------------------------------
{
	my $f0 = failures();
	my $tag = 'systemd';
	my $sock = systemd_unit("$TOP/etc/cgiwrap.socket");
	my $svc = systemd_unit("$TOP/etc/cgiwrap.service");
	my $one = sub { my ($u, $k) = @_; return ($u->{$k} // [])->[-1] // '' };
	is($one->($sock, 'Socket.Accept'), 'no', "$tag: Accept=no (one cgiwrap)");
	my $listen = $one->($sock, 'Socket.ListenStream');
	like($listen, qr{^/\S+$}, "$tag: ListenStream is a unix socket path");
	my $mode = $one->($sock, 'Socket.SocketMode');
	like($mode, qr/^0?[0-7]{3}$/, "$tag: SocketMode is set");
	my $suser = $one->($sock, 'Socket.SocketUser') || 'root';
	is($one->($svc, 'Service.StandardInput'), 'socket',
	    "$tag: StandardInput=socket");
	for my $k (qw(StandardOutput StandardError)) {
		like($one->($svc, "Service.$k"), qr/^(?:journal|syslog|kmsg|null)/,
		    "$tag: $k is not the socket (it would follow stdin)");
	}
	like(join(' ', @{ $svc->{'Unit.Requires'} // [] }), qr/\bcgiwrap\.socket\b/,
	    "$tag: the service requires the socket");
	like($one->($svc, 'Service.ExecReload'), qr/kill -HUP \$MAINPID/,
	    "$tag: reload is SIGHUP");
	my @exec = split ' ', $one->($svc, 'Service.ExecStart');
	like($exec[0] // '', qr{/cgiwrap$}, "$tag: ExecStart runs cgiwrap");
	ok(!grep({ /^-[fs]/ } @exec), "$tag: ExecStart has no -f and no -s "
	    . '(the socket comes on descriptor 0)');
	my $user = $one->($svc, 'Service.User') || 'root';
	my $group = $one->($svc, 'Service.Group') || $user;
	if (have('systemd-analyze')) {
		my @bad = grep { !/is not executable|No such file/ && /\S/ }
		    `systemd-analyze verify --man=no '$TOP/etc/cgiwrap.socket' '$TOP/etc/cgiwrap.service' 2>&1`;
		is("@bad", '', "$tag: systemd-analyze verify finds nothing else "
		    . 'than the binary not installed');
	} else {
		note("$tag: no systemd-analyze here, the units are not verified");
	}
	# Run it as systemd would, in the test's directory.
	my @args = @exec[1 .. $#exec];
	for my $i (0 .. $#args - 1) {
		$args[$i + 1] = $fx->{conf} if $args[$i] eq '-c';
	}
	my $cw = cgiwrap_inherit_start(bin => $CGIWRAP, conf => $fx->{conf},
	    listen => "unix:$t/var/systemd.sock", dir => $fx->{var},
	    tag => $tag, mode => oct($mode), owner => $suser,
	    wrap => ['setpriv', "--reuid=$user", "--regid=$group",
	    '--init-groups', '--'], args => [grep { $_ ne '-c' &&
	    $_ ne $fx->{conf} } @args]);
	my $n = 0;
	for my $i (0 .. $#args - 1) {
		$n = $args[$i + 1] if $args[$i] eq '-w';
	}
	ok(wait_for(sub { scalar(my @x = $cw->workers) == ($n || $ncpu) }, T(15)),
	    "$tag: cgiwrap started with the socket on descriptor 0, "
	    . ($n || $ncpu) . ' workers') or diag($cw->out);
	my ($who) = through_nginx($tag, $cw->socket, $tag);
	is($who, "$user\n", "$tag: the program runs as User=$user");
	ok($cw->stop, "$tag: cgiwrap stops on SIGTERM (systemctl stop)")
	    or diag($cw->stop_problem);
	diag("---- $tag output:\n" . $cw->out) if failures() > $f0;
}

ok(no_scripts_left($fx, T(10)), 'no process of the programs left')
    or diag(show_pids(script_pids($fx)));
note(sprintf('fastcgi-socket.t took %.1f s', time - $T0));
done_testing;
