package Nginx;

# nginx in front of cgiwrap in FastCGI mode, for the integration tests:
# start nginx (own process group, every path under a temporary directory),
# start `cgiwrap -f` (or cgiwrap on an inherited listening socket), and
# talk FastCGI to cgiwrap directly (a small client that can also send
# broken records).
#
#   use lib "$FindBin::Bin/../lib";
#   use Nginx qw(:all);
#
#   my $cw = cgiwrap_start(conf => $conf, socket => 'unix', dir => $t,
#                          workers => 4);        # or socket => 'tcp'
#   my $ng = nginx_start(dir => "$t/nginx", conf => sub {
#       my ($port) = @_;
#       return nginx_snippet(LISTEN => "127.0.0.1:$port", ROOT => "$t/prog",
#                            SOCKET => $cw->socket);
#   });
#   my $r = curl_get($ng->url('/cgi-bin/hello'));
#   $ng->stop; $cw->stop;   # also done by DESTROY and at END
#
#   my $r = fcgi_request($cw->socket, params => {SCRIPT_FILENAME => ...});
#
# nginx_snippet() is etc/nginx.conf with its @NAME@ placeholders filled in,
# so the documented snippet is the tested one.  The objects are Server
# objects (tests/lib/Server.pm) whose stop() also makes sure that nothing
# of their process group (nginx and cgiwrap workers) is left; a cgiwrap
# object also has ->workers, ->wait_workers(N, T), ->wait_exit(T) and
# ->exit_status, ->out (its stderr).
#
# fcgi_fixture() makes the directory of test programs, the shutdown
# command recording its environment and cgiwrap's configuration that the
# fastcgi*.t files share; wait_record(), script_pids(), no_scripts_left()
# look at what they left.  http_open()/http_read() are a raw HTTP client
# for requests a test walks away from.

use strict;
use warnings;
use Carp qw(croak);
use Cwd qw(abs_path);
use Errno qw(EAGAIN EINTR EWOULDBLOCK);
use Exporter qw(import);
use File::Basename qw(dirname);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX qw(:sys_wait_h);
use Socket qw(SHUT_WR SOCK_STREAM SOMAXCONN);
use Time::HiRes qw(time sleep);

use Server qw(spawn free_port wait_for_port wait_for_pid_gone wait_for T
    slurp proc_cmdline instantiate make_tempdir write_file parse_env
    pids_matching www_can_run start_on_port cgiwrap_bin);

our @ISA = ('Server');

our @EXPORT_OK = qw(
	have_nginx nginx_start nginx_snippet cgiwrap_behind_nginx
	nginx_with_reference
	cgiwrap_start cgiwrap_inherit_start systemd_unit
	fcgi_connect fcgi_record fcgi_begin fcgi_params fcgi_pairs
	fcgi_unpairs fcgi_stdin fcgi_read fcgi_write fcgi_request
	fcgi_describe fcgi_cgi_params
	children_of pgrp_members proc_stat keeper_idle blocked_in
	signal_waits
	fcgi_fixture pool_started write_conf wait_record record_count
	script_pids
	no_scripts_left show_pids http_open http_read
	FCGI_BEGIN_REQUEST FCGI_ABORT_REQUEST FCGI_END_REQUEST FCGI_PARAMS
	FCGI_STDIN FCGI_STDOUT FCGI_STDERR FCGI_RESPONDER
);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

our $NGINX = $ENV{NGINX} || '/usr/sbin/nginx';
our $TOP = abs_path(dirname(__FILE__) . '/../..');
our $SNIPPET = "$TOP/etc/nginx.conf";
our $FCGIWRAP = $ENV{FCGIWRAP} || '/usr/sbin/fcgiwrap';

use constant {
	FCGI_BEGIN_REQUEST => 1, FCGI_ABORT_REQUEST => 2,
	FCGI_END_REQUEST => 3, FCGI_PARAMS => 4, FCGI_STDIN => 5,
	FCGI_STDOUT => 6, FCGI_STDERR => 7, FCGI_RESPONDER => 1,
};

# ---------------------------------------------------------------------------
# Processes

# (pid, comm, state, ppid, pgrp, session) of PID from /proc, or ().
sub proc_stat {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/stat") or return ();
	my $s = <$fh> // return ();
	close $fh;
	$s =~ /^(\d+) \((.*)\) (\S) (\d+) (\d+) (\d+)/s or return ();
	return ($1, $2, $3, $4, $5, $6);
}

# Live (not zombie) processes other than ours whose field N of proc_stat
# (3: the parent, 4: the process group) is VALUE, sorted.
sub _live_with {
	my ($n, $value) = @_;
	opendir(my $dh, '/proc') or return ();
	my @p = sort { $a <=> $b } grep {
		my @st = /^\d+\z/ && $_ != $$ ? proc_stat($_) : ();
		@st && $st[$n] == $value && $st[2] ne 'Z';
	} readdir $dh;
	return @p;
}

# Live (not zombie) processes whose parent is PID, sorted.
sub children_of { return _live_with(3, $_[0]) }

# Wait (bounded) until keeper PID waits for its next job: in poll(2) on
# its line and its signals (2 descriptors, no timeout), where a job's
# supervision polls more.  By then it has told its worker it is free.
# glibc's poll is the poll system call (7) on x86_64, its timeout -1;
# on arm64 it is ppoll (73; x86_64's is 271), no timeout a NULL one.
sub keeper_idle {
	my ($pid) = @_;
	my $poll = qr/^7 0x[0-9a-f]+ 0x2 0xf+ /;
	my $ppoll = qr/^(?:73|271) 0x[0-9a-f]+ 0x2 0x0 0x0 /;
	return wait_for(sub {
		my $call = slurp("/proc/$pid/syscall") // '';
		$call =~ $poll || $call =~ $ppoll;
	}, T(10));
}

# Is PID asleep in read(2) or write(2) (CALL 'read' or 'write')?  They
# are system calls 0 and 1 on x86_64, 63 and 64 on arm64.
sub blocked_in {
	my ($pid, $call) = @_;
	my $base = (POSIX::uname())[4] =~ /^aarch64/ ? 63 : 0;
	my $nr = $base + ($call eq 'write' ? 1 : 0);
	my @st = proc_stat($pid) or return 0;
	return $st[2] eq 'S' &&
	    (slurp("/proc/$pid/syscall") // '') =~ /^$nr /;
}

# Does signal number SIG, sent to PID, wait there unhandled (blocked)?
sub signal_waits {
	my ($pid, $sig) = @_;
	my ($pending) = (slurp("/proc/$pid/status") // '') =~
	    /^ShdPnd:\s*([0-9a-f]+)/m or return 0;
	# Signals 1 to 32 are the low 32 bits.
	return (hex(substr($pending, -8)) >> ($sig - 1)) & 1;
}

# Live (not zombie) processes of process group PGRP, sorted.
sub pgrp_members { return _live_with(4, $_[0]) }

# Server::stop, then whatever is left of the process group (nginx
# workers, cgiwrap workers) is a problem, killed.
sub stop {
	my ($self) = @_;
	return 1 if !$self->{pid} || $self->{stopped};
	return 1 if $self->{owner} != $$;
	my $pgrp = $self->{pgrp} // $self->{pid};
	my $ok = $self->SUPER::stop();
	unless (wait_for(sub { !pgrp_members($pgrp) }, T(5))) {
		my @left = pgrp_members($pgrp);
		kill 'KILL', @left;
		$self->{stop_problem} = join('; ', grep { length }
		    $self->{stop_problem}, 'left in process group: '
		    . join(', ', map { "$_ (" . (proc_cmdline($_) // '') . ')' }
		    @left));
		$ok = 0;
	}
	return $ok;
}

# The exit status of the main process ($? form) when stop() or
# wait_exit() reaped it; undef otherwise.
sub exit_status { $_[0]{exit_status} }

# Wait (bounded) for the main process to exit by itself; reaps it and
# keeps its status. True if it exited within TIMEOUT.
sub wait_exit {
	my ($self, $timeout) = @_;
	my $pid = $self->{pid};
	my $done = wait_for(sub {
		my $r = waitpid($pid, WNOHANG);
		if ($r == $pid) {
			$self->{exit_status} = $?;
			return 1;
		}
		return $r == -1 ? 1 : 0;
	}, $timeout);
	$self->{stopped} = 1 if $done;
	return $done;
}

sub out_path { $_[0]{out} }
sub out { slurp($_[0]{out}) }

# ---------------------------------------------------------------------------
# nginx

sub have_nginx { return -x $NGINX }

my %PACKAGE = (ab => 'apache2-utils');	# commands named after a package

# The start of a fastcgi*.t: skip_all unless root and nginx is installed;
# then the binary, the commands TOOLS and, with www => 1, the user
# www-data able to execute the binary are required (checks: the test ends
# after they ran when one failed).  Returns the path of cgiwrap_bin().
sub cgiwrap_behind_nginx {
	my (%o) = @_;
	Test::More::plan(skip_all => 'must run as root (nginx and cgiwrap on '
	    . 'their own sockets and ports, as an administrator would run '
	    . 'them)') if $> != 0;
	Test::More::plan(skip_all => "nginx is not installed ($NGINX; "
	    . 'tests/deps.sh installs it)') unless have_nginx();
	my $bin = cgiwrap_bin();
	my $ready = Test::More::ok(-x $bin, "$bin is there (make builds it)");
	for my $tool (@{ $o{tools} // [] }) {
		$ready &= Test::More::ok(scalar(grep { -x "$_/$tool" }
		    split /:/, $ENV{PATH} // ''), "$tool is installed"
		    . ($PACKAGE{$tool} ? " ($PACKAGE{$tool})" : ''));
	}
	$ready &= www_can_run($bin) if $ready && $o{www};
	unless ($ready) {
		Test::More::done_testing();
		exit;
	}
	return $bin;
}

# etc/nginx.conf (or FILE => another snippet) with its @NAME@
# placeholders filled in (Server::instantiate: every one must be given).
sub nginx_snippet {
	my (%vars) = @_;
	my $file = delete $vars{FILE} // $SNIPPET;
	return instantiate($file, %vars);
}

sub _nginx_conf {
	my (%o) = @_;
	my ($dir, $port) = @o{qw(dir port)};
	my $extra = ref $o{conf} eq 'CODE' ? $o{conf}->($port) : $o{conf};
	my $tmp = "$dir/tmp";
	my $workers = $o{workers} // 2;
	return <<"EOF";
# generated by tests/lib/Nginx.pm
daemon off;
master_process on;
worker_processes $workers;
# The test runs cgiwrap as root: its socket (mode 0660) is root's.
user root root;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events {
    worker_connections 512;
}
http {
    access_log $dir/access.log;
    client_body_temp_path $tmp/client_body;
    fastcgi_temp_path $tmp/fastcgi;
    proxy_temp_path $tmp/proxy;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    default_type application/octet-stream;
# extra configuration
$extra
}
EOF
}

# nginx_start(dir => DIR, conf => TEXT or CODE(port), port => PORT,
#   workers => N, timeout => SECONDS)
# Start nginx (daemon off, own process group) on 127.0.0.1 and a free
# port (or PORT), with DIR/nginx.conf holding CONF inside http { }, every
# path under DIR; fastcgi_params and mime.types are copied next to it so
# that `include fastcgi_params;` works as in /etc/nginx. Returns a Server
# object once the port answers; croaks with the error log otherwise.
sub nginx_start {
	my (%o) = @_;
	croak "nginx_start: $NGINX is missing" unless have_nginx();
	my $dir = $o{dir} // croak 'nginx_start: dir is required';
	$dir =~ s{/+\z}{};
	for my $d ($dir, "$dir/tmp") {
		-d $d or mkdir $d or croak "mkdir $d: $!";
		chmod 0755, $d;
	}
	for my $f (qw(fastcgi_params mime.types)) {
		my $text = slurp("/etc/nginx/$f");
		open(my $fh, '>', "$dir/$f") or croak "$dir/$f: $!";
		print $fh $text;
		close $fh;
	}
	my $conffile = "$dir/nginx.conf";
	my $log = "$dir/error.log";
	my $out = "$dir/nginx.out";
	return start_on_port('nginx_start', 'nginx', $o{port}, [$out, $log],
	    sub {
		my ($port) = @_;
		open(my $fh, '>', $conffile) or croak "$conffile: $!";
		print $fh _nginx_conf(%o, dir => $dir, port => $port);
		close $fh or croak "$conffile: $!";
		unlink $log, $out;
		my @cmd = ($NGINX, '-p', "$dir/", '-e', $log, '-c', $conffile);
		my $check = `'$NGINX' -t -q -p '$dir/' -e '$log' -c '$conffile' 2>&1`;
		croak "nginx_start: $conffile is refused:\n$check" if $?;
		my $pid = spawn(\@cmd, $out);
		my $self = Nginx->new(name => 'nginx', pid => $pid,
		    port => $port, dir => $dir, conffile => $conffile,
		    error_log => $log, out => $out, stop_signal => 'TERM',
		    stop_timeout => 10,
		    leftover => qr/^nginx: master process .*\Q$conffile\E/);
		return ($self, wait_for_port($port, $o{timeout} // T(15), $pid));
	});
}

# nginx_with_reference(dir => DIR, conf => FILE, bin => BINARY,
#   root => ROOT)
# One nginx with etc/nginx.conf twice for the programs of ROOT: on its
# port to `cgiwrap -f` (BINARY, configuration FILE, 2 workers), on
# another to fcgiwrap under spawn-fcgi, the programs run directly (the
# reference a comparison needs); every socket and log under DIR.  The
# starts are checks.  Returns (the nginx object or undef when it did not
# start, the reference's port, a sub that stops all three).
sub nginx_with_reference {
	my (%o) = @_;
	my $dir = $o{dir};
	my $cw = cgiwrap_start(conf => $o{conf}, dir => $dir, bin => $o{bin},
	    workers => 2);
	my $fsock = "$dir/fcgiwrap.sock";
	my $fw = spawn(['/usr/bin/spawn-fcgi', '-n', '-s', $fsock, '--',
	    $FCGIWRAP], "$dir/fcgiwrap.out");
	Test::More::ok(wait_for(sub { -S $fsock }, T(10)), 'fcgiwrap started');
	my $dport = free_port();
	my $ng = eval {
		nginx_start(dir => $dir, conf => sub {
			my ($port) = @_;
			return nginx_snippet(LISTEN => "127.0.0.1:$port",
			    ROOT => $o{root}, SOCKET => $cw->socket)
			    . nginx_snippet(LISTEN => "127.0.0.1:$dport",
			    ROOT => $o{root}, SOCKET => "unix:$fsock");
		});
	};
	Test::More::ok($ng, 'nginx started') or Test::More::diag($@);
	return ($ng, $dport, sub {
		$ng->stop if $ng;
		kill 'TERM', -$fw;
		waitpid($fw, 0);
		$cw->stop;
	});
}

# ---------------------------------------------------------------------------
# cgiwrap in FastCGI mode

sub socket { $_[0]{socket} }		# as for -s and fastcgi_pass
sub conf { $_[0]{conffile} }

# The worker processes of a cgiwrap master (its live children).
sub workers { return children_of($_[0]{pid}) }

# Wait (bounded) until the master has N workers; returns them, or ()
sub wait_workers {
	my ($self, $n, $timeout) = @_;
	my @w;
	wait_for(sub {
		@w = $self->workers;
		return @w == $n;
	}, $timeout // T(10));
	return @w == $n ? @w : ();
}

# Can ADDR (unix:PATH or HOST:PORT) be connected to?
sub _answers {
	my ($addr) = @_;
	my $s = fcgi_connect($addr, 1) or return 0;
	close $s;
	return 1;
}

# pool_started(KIND, OPTIONS of cgiwrap_start): `cgiwrap -f -w 2` on a
# KIND ('unix' or 'tcp') socket, its start and its two workers asserted.
# Returns (the Server object, its socket, the workers' pids), or () when
# it did not start.
sub pool_started {
	my ($kind, %o) = @_;
	my $cw = eval { cgiwrap_start(socket => $kind, workers => 2, %o) };
	unless (Test::More::ok($cw, "$kind: cgiwrap -f -w 2 answers")) {
		Test::More::diag($@);
		return;
	}
	my @pool = $cw->wait_workers(2, T(10));
	Test::More::is(scalar @pool, 2, "$kind: 2 workers");
	return ($cw, $cw->socket, @pool);
}

# cgiwrap_start(conf => FILE, socket => 'unix' | 'tcp' | 'unix:PATH' |
#   'HOST:PORT', dir => DIR (for the socket and the output file),
#   workers => N, mode => '0660', args => [more options],
#   bin => BINARY, env => {NAME => VALUE}, wait => 0, timeout => SECONDS)
# Start `cgiwrap -f -s SOCKET -c FILE [-w N] [-m MODE]` in a process group
# of its own, its stdout and stderr appended to DIR/cgiwrap.out.TAG.
# Unless wait => 0, waits until the socket answers (croaks with the output
# when it does not) and until all N workers are there. Returns a Server
# object (->socket, ->out, ->workers, ->wait_exit).
sub cgiwrap_start {
	my (%o) = @_;
	my $bin = $o{bin} // $ENV{CGIWRAP} // "$TOP/cgiwrap";
	my $dir = $o{dir} // croak 'cgiwrap_start: dir is required';
	my $sock = $o{socket} // 'unix';
	my $tag = $o{tag} // 'fcgi';
	$sock = "unix:$dir/cgiwrap.$tag.sock" if $sock eq 'unix';
	$sock = '127.0.0.1:' . free_port() if $sock eq 'tcp';
	my $out = "$dir/cgiwrap.$tag.out";
	my @cmd = ($bin, '-f', '-s', $sock, '-c', $o{conf});
	push @cmd, '-w', $o{workers} if $o{workers};
	push @cmd, '-m', $o{mode} if defined $o{mode};
	push @cmd, @{ $o{args} // [] };
	my $pid;
	{
		local %ENV = (%ENV, %{ $o{env} // {} });
		$pid = spawn(\@cmd, $out);
	}
	my $self = Nginx->new(name => "cgiwrap-$tag", pid => $pid,
	    socket => $sock, dir => $dir, conffile => $o{conf}, out => $out,
	    error_log => $out, stop_signal => 'TERM',
	    stop_timeout => $o{stop_timeout} // 15, cmd => \@cmd,
	    leftover => qr/^\Q$bin\E .*-c \Q$o{conf}\E(?: |\z)/);
	return $self if defined $o{wait} && !$o{wait};
	my $timeout = $o{timeout} // T(15);
	my $up = wait_for(sub {
		return -1 if waitpid($pid, WNOHANG) == $pid;
		return _answers($sock);
	}, $timeout);
	unless ($up && $up != -1) {
		my $text = slurp($out);
		$self->stop;
		croak "cgiwrap_start: @cmd did not answer:\n$text";
	}
	$self->wait_workers($o{workers}, $timeout) if $o{workers};
	return $self;
}

# The settings of a systemd unit FILE: { "Section.Key" => [values] }.
sub systemd_unit {
	my ($file) = @_;
	my (%k, $sec);
	croak "systemd_unit: cannot read $file" unless -r $file;
	for (split /\n/, slurp($file)) {
		next if /^\s*(?:[#;]|$)/;
		if (/^\[(\w+)\]\s*$/) {
			$sec = $1;
			next;
		}
		push @{ $k{"$sec.$1"} }, $2 if defined $sec && /^(\w+)=(.*?)\s*$/;
	}
	return \%k;
}

# cgiwrap_inherit_start(conf => FILE, listen => 'unix:PATH' | 'unix' |
#   'tcp', dir => DIR, args => [...], bin => BINARY, mode => 0660,
#   owner => USER, wrap => [PREFIX ARGV], tag => TAG)
# As spawn-fcgi or systemd would: bind and listen on the socket here (a
# unix one gets MODE and USER's uid and gid when given), put it on
# descriptor 0 and exec `[PREFIX...] cgiwrap -c FILE ARGS` (no -f, no -s;
# PREFIX e.g. setpriv to change user, as systemd's User=).
sub cgiwrap_inherit_start {
	my (%o) = @_;
	my $bin = $o{bin} // $ENV{CGIWRAP} // "$TOP/cgiwrap";
	my $dir = $o{dir} // croak 'cgiwrap_inherit_start: dir is required';
	my $tag = $o{tag} // 'inherit';
	my $addr = $o{listen} // 'tcp';
	my $ls;
	if ($addr eq 'tcp') {
		$ls = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
		    LocalPort => 0, Proto => 'tcp', Listen => SOMAXCONN,
		    ReuseAddr => 1) or croak "listen: $!";
		$addr = '127.0.0.1:' . $ls->sockport;
	} else {
		$addr = "unix:$dir/cgiwrap.$tag.sock" if $addr eq 'unix';
		(my $path = $addr) =~ s/^unix://;
		unlink $path;
		$ls = IO::Socket::UNIX->new(Local => $path, Type => SOCK_STREAM,
		    Listen => SOMAXCONN) or croak "listen $path: $!";
		chmod $o{mode}, $path or croak "chmod $path: $!"
		    if defined $o{mode};
		if (defined $o{owner}) {
			my (undef, undef, $uid, $gid) = getpwnam($o{owner})
			    or croak "no user $o{owner}";
			chown $uid, $gid, $path or croak "chown $path: $!";
		}
	}
	my $out = "$dir/cgiwrap.$tag.out";
	my @cmd = (@{ $o{wrap} // [] }, $bin, '-c', $o{conf},
	    @{ $o{args} // [] });
	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		$SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE CHLD);
		POSIX::setpgid(0, 0);
		open(STDOUT, '>>', $out) or POSIX::_exit(125);
		open(STDERR, '>&', \*STDOUT) or POSIX::_exit(125);
		POSIX::dup2(fileno($ls), 0) // POSIX::_exit(125);
		{ no warnings 'exec'; exec { $cmd[0] } @cmd; }
		print STDERR "exec $cmd[0]: $!\n";
		POSIX::_exit(127);
	}
	close $ls;	# cgiwrap holds it now
	my $self = Nginx->new(name => "cgiwrap-$tag", pid => $pid,
	    socket => $addr, dir => $dir, conffile => $o{conf}, out => $out,
	    error_log => $out, stop_signal => 'TERM', stop_timeout => 15,
	    cmd => \@cmd,
	    leftover => qr/^\Q$bin\E -c \Q$o{conf}\E(?: |\z)/);
	return $self;
}

# ---------------------------------------------------------------------------
# A test fixture: a directory of CGI programs, a shutdown command that
# records its environment, and a cgiwrap configuration

# fcgi_fixture(tag => TAG, conf => TEXT, kill_grace => '1s', shutdown => 1)
# A new directory T (make_tempdir) with
#   T/cgiwrap.conf  roots = {"T/prog"}, log = "T/var/cgiwrap.log",
#                   kill_grace (1s), shutdown "rec" running T/rec.sh
#                   (left out with shutdown => 0: a shutdown command to
#                   run keeps a FastCGI keeper from its next job), then
#                   TEXT (script sections, other settings);
#   T/rec.sh        writes its environment to T/rec/<CGIWRAP_PID>.<pid>;
#   T/prog/         hello (fixed body), errline (a body, then a line on
#                   stderr: "errline-stderr QUERY_STRING"), env (its
#                   environment), sum (sha256 of its stdin and
#                   CONTENT_LENGTH), big (header, then T/data/big.bin),
#                   silent and timeout (write T/run/ID.pid, wait silently
#                   for T/run/ID.release, 30 s at most, write T/run/ID.done,
#                   answer; ID is the query string without "id=");
#                   fds (lists its descriptors), early (answers, closes
#                   stdout, works on silently like silent), nohdr (no
#                   header block), noexec (mode 0644);
#   T/bin/sleep     a symlink to sleep(1), so that every process of the
#                   programs names T/prog/ or T/bin/ on its command line.
# Returns a hash: dir, conf, log, and the paths of the subdirectories.
sub fcgi_fixture {
	my (%o) = @_;
	my $t = abs_path(make_tempdir($o{tag} // 'fcgi'));
	for my $d (qw(prog rec run var data bin)) {
		mkdir "$t/$d" or croak "mkdir $t/$d: $!";
		chmod 0755, "$t/$d";
	}
	my $sleep = (grep { -x } '/usr/bin/sleep', '/bin/sleep')[0]
	    // croak 'no sleep(1)';
	symlink($sleep, "$t/bin/sleep") or croak "symlink: $!";
	my %fx = (dir => $t, conf => "$t/cgiwrap.conf",
	    log => "$t/var/cgiwrap.log", map { ($_ => "$t/$_") }
	    qw(prog rec run var data bin));
	$fx{kill_grace} = $o{kill_grace} // '1s';
	$fx{shutdown} = $o{shutdown} // 1;
	write_conf(\%fx, $o{conf} // '');
	write_file("$t/rec.sh", 0755, <<"EOS");
#!/bin/sh
# Record the shutdown command's environment, atomically.
tmp="$t/rec/.tmp.\$\$"
env > "\$tmp" && mv "\$tmp" "$t/rec/\${CGIWRAP_PID:-nopid}.\$\$"
EOS
	write_file("$t/prog/hello", 0755, <<'EOS');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nhello from cgiwrap\n'
EOS
	write_file("$t/prog/errline", 0755, <<'EOS');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\nerrline\n'
echo "errline-stderr $QUERY_STRING" >&2
EOS
	write_file("$t/prog/env", 0755, <<'EOS');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
env
EOS
	write_file("$t/prog/sum", 0755, <<'EOS');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
sha256sum | cut -d' ' -f1
echo "CONTENT_LENGTH=$CONTENT_LENGTH"
EOS
	write_file("$t/prog/big", 0755, <<"EOS");
#!/bin/sh
printf 'Content-Type: application/octet-stream\\r\\n\\r\\n'
exec cat "$t/data/big.bin"
EOS
	# The pid in T/run/ID.pid, silence until T/run/ID.release appears
	# (30 s at most), then T/run/ID.done.
	my $released = <<"EOS";
echo \$\$ > "\$D/run/\$id.pid.tmp" && mv "\$D/run/\$id.pid.tmp" "\$D/run/\$id.pid"
i=0
while [ ! -e "\$D/run/\$id.release" ] && [ \$i -lt 600 ]; do
	"\$D/bin/sleep" 0.05
	i=\$((i + 1))
done
touch "\$D/run/\$id.done"
EOS
	my $silent = <<"EOS" . $released . <<'EOS';
#!/bin/sh
# Silent until T/run/ID.release appears (30 s at most).
D="$t"
id=\${QUERY_STRING#id=}
EOS
printf 'Content-Type: text/plain\r\n\r\nreleased %s\n' "$id"
EOS
	write_file("$t/prog/$_", 0755, $silent) for qw(silent timeout);
	write_file("$t/prog/fds", 0755, <<'EOS');
#!/usr/bin/perl
# The descriptors the program holds, "N TARGET" per line.
opendir(my $d, '/proc/self/fd') or die "/proc/self/fd: $!";
my $own = fileno($d);
print "Content-Type: text/plain\r\n\r\n";
for my $fd (sort { $a <=> $b } grep { /^\d+\z/ && $_ != $own } readdir $d) {
	print "$fd ", readlink("/proc/self/fd/$fd") // '?', "\n";
}
EOS
	write_file("$t/prog/early", 0755, <<"EOS" . $released);
#!/bin/sh
# The whole response, stdout closed, then on working (silently) until
# T/run/ID.release, then T/run/ID.done.
D="$t"
id=\${QUERY_STRING#id=}
printf 'Content-Type: text/plain\\r\\n\\r\\nearly %s\\n' "\$id"
exec 1>&-
EOS
	write_file("$t/prog/nohdr", 0755, <<'EOS');
#!/bin/sh
echo 'no header here'
EOS
	write_file("$t/prog/noexec", 0644, <<'EOS');
#!/bin/sh
echo "Content-Type: text/plain"; echo; echo ran
EOS
	return \%fx;
}

# (Re)write the fixture's configuration: the base lines (with or without
# "rec", as the fixture was made), then TEXT.  Written to a temporary name
# and renamed, so that a reload never reads half a file.
sub write_conf {
	my ($fx, $text) = @_;
	my $t = $fx->{dir};
	my $rec = $fx->{shutdown} ? <<"EOS" : '';
shutdown "rec" {
    command = {"$t/rec.sh"}
}
EOS
	write_file("$fx->{conf}.tmp", 0644, <<"EOS" . $rec . $text . "\n");
roots = {"$t/prog"}
log = "$fx->{log}"
kill_grace = $fx->{kill_grace}
EOS
	rename("$fx->{conf}.tmp", $fx->{conf}) or croak "rename: $!";
}

# The shutdown record (environment hash) whose QUERY_STRING is "id=ID",
# waited for (bounded); undef if none came within TIMEOUT.
sub wait_record {
	my ($fx, $id, $timeout) = @_;
	my $rec;
	wait_for(sub {
		opendir(my $dh, $fx->{rec}) or return 0;
		for my $f (grep { !/^\./ } readdir $dh) {
			my $text = slurp("$fx->{rec}/$f");
			next unless $text =~ /^QUERY_STRING=id=\Q$id\E$/m;
			$rec = parse_env($text);
			$rec->{_file} = $f;
			return 1;
		}
		return 0;
	}, $timeout // T(10));
	return $rec;
}

# How many shutdown records there are.
sub record_count {
	my ($fx) = @_;
	opendir(my $dh, $fx->{rec}) or return 0;
	return scalar grep { !/^\./ } readdir $dh;
}

# Processes of the fixture's programs (T/prog/... or T/bin/... on their
# command line).
sub script_pids {
	my ($fx) = @_;
	my $re = qr/(?:^|\s)\Q$fx->{dir}\E\/(?:prog|bin)\//;
	return pids_matching($re);
}

# Wait (bounded) until no process of the programs is left; true if so.
sub no_scripts_left {
	my ($fx, $timeout) = @_;
	return wait_for(sub { !script_pids($fx) }, $timeout // T(10));
}

sub show_pids {
	return join('', map { "  $_: " . (proc_cmdline($_) // '(gone)') . "\n" }
	    @_);
}

# ---------------------------------------------------------------------------
# A raw HTTP client, for requests the test walks away from

# An HTTP/1.0 GET of PATH on 127.0.0.1:PORT (no chunked encoding in the
# answer), sent; the socket (or undef).  Options: host => the Host header;
# from => the local port to connect from (SO_REUSEADDR: several
# connections can share it); half_close => shut the sending side after
# the request; unfinished => the header is left without its end, so that
# the server waits for more.
sub http_open {
	my ($port, $path, %o) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp', Timeout => 5,
	    $o{from} ? (LocalAddr => '127.0.0.1', LocalPort => $o{from},
	    ReuseAddr => 1) : ()) or return undef;
	syswrite($s, "GET $path HTTP/1.0\r\nHost: "
	    . ($o{host} // 'localhost') . "\r\n"
	    . ($o{unfinished} ? '' : "\r\n"));
	shutdown($s, SHUT_WR) if $o{half_close};
	return $s;
}

# Everything the server sends on S until it closes it (or TIMEOUT).
sub http_read {
	my ($s, $timeout) = @_;
	my $text = '';
	my $sel = IO::Select->new($s);
	my $deadline = time + $timeout;
	while ((my $left = $deadline - time) > 0) {
		last unless $sel->can_read($left);
		my $n = sysread($s, my $buf, 65536);
		last unless $n;
		$text .= $buf;
	}
	return $text;
}

# ---------------------------------------------------------------------------
# A FastCGI client (the protocol written out by hand, so that it can be
# broken on purpose)

# A connected socket to ADDR (unix:PATH or HOST:PORT), or undef.
sub fcgi_connect {
	my ($addr, $timeout) = @_;
	if ($addr =~ /^unix:(.*)\z/) {
		return IO::Socket::UNIX->new(Peer => $1, Type => SOCK_STREAM,
		    Timeout => $timeout // T(5));
	}
	my ($host, $port) = $addr =~ /^\[?(.*?)\]?:(\d+)\z/
	    or croak "fcgi_connect: bad address $addr";
	return IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
	    Proto => 'tcp', Timeout => $timeout // T(5));
}

# One record: version 1, TYPE, request ID, CONTENT (padding PAD bytes).
sub fcgi_record {
	my ($type, $id, $content, $pad) = @_;
	$content //= '';
	$pad //= (8 - length($content) % 8) % 8;
	croak 'fcgi_record: content over 65535 bytes' if length $content > 65535;
	return pack('CCnnCC', 1, $type, $id, length $content, $pad, 0)
	    . $content . ("\0" x $pad);
}

sub fcgi_begin {
	my ($id, $role, $flags) = @_;
	return fcgi_record(FCGI_BEGIN_REQUEST, $id,
	    pack('nCx5', $role // FCGI_RESPONDER, $flags // 0));
}

sub _len {
	my ($n) = @_;
	return $n < 128 ? pack('C', $n) : pack('N', $n | 0x80000000);
}

# Name-value pairs (a list NAME, VALUE, ...) in the FastCGI encoding.
sub fcgi_pairs {
	my (@kv) = @_;
	my $s = '';
	while (my ($k, $v) = splice(@kv, 0, 2)) {
		$s .= _len(length $k) . _len(length $v) . $k . $v;
	}
	return $s;
}

# The name-value pairs encoded in TEXT, as a list NAME, VALUE, ...
sub fcgi_unpairs {
	my ($text) = @_;
	my @kv;
	while (length $text) {
		my @len;
		for (1, 2) {
			my $n = unpack('C', $text);
			$n = unpack('N', substr($text, 0, 4, '')) & 0x7fffffff
			    if $n >= 128;
			substr($text, 0, 1, '') if $n < 128;
			push @len, $n;
		}
		push @kv, substr($text, 0, $len[0], ''), substr($text, 0, $len[1], '');
	}
	return @kv;
}

# PARAMS records carrying the encoded PAIRS, then the empty one.
sub fcgi_params {
	my ($id, $pairs) = @_;
	my $s = '';
	for (my $i = 0; $i < length $pairs; $i += 65535) {
		$s .= fcgi_record(FCGI_PARAMS, $id, substr($pairs, $i, 65535));
	}
	return $s . fcgi_record(FCGI_PARAMS, $id, '');
}

# STDIN records carrying DATA, then the empty one.
sub fcgi_stdin {
	my ($id, $data) = @_;
	my $s = '';
	for (my $i = 0; $i < length($data // ''); $i += 65535) {
		$s .= fcgi_record(FCGI_STDIN, $id, substr($data, $i, 65535));
	}
	return $s . fcgi_record(FCGI_STDIN, $id, '');
}

# Read records from SOCK until END_REQUEST, EOF or TIMEOUT. Returns
# { stdout, stderr, end => 1 when END_REQUEST came, app_status,
#   protocol_status, eof => 1 when the peer closed, timeout => 1,
#   types => [record types seen], records => [[type, id, content] of the
#   other records], error => text }.
sub fcgi_read {
	my ($sock, $timeout) = @_;
	my %r = (stdout => '', stderr => '', types => []);
	my $buf = '';
	my $deadline = time + ($timeout // T(20));
	my $sel = IO::Select->new($sock);
	while (1) {
		while (length $buf >= 8) {
			my ($v, $type, $id, $len, $pad) = unpack('CCnnC', $buf);
			last if length $buf < 8 + $len + $pad;
			my $c = substr($buf, 8, $len);
			substr($buf, 0, 8 + $len + $pad, '');
			push @{ $r{types} }, $type;
			if ($type == FCGI_STDOUT) {
				$r{stdout} .= $c;
			} elsif ($type == FCGI_STDERR) {
				$r{stderr} .= $c;
			} elsif ($type == FCGI_END_REQUEST) {
				$r{end} = 1;
				@r{qw(app_status protocol_status)} = unpack('NC', $c);
				return \%r;
			} else {
				push @{ $r{records} }, [$type, $id, $c];
			}
		}
		my $left = $deadline - time;
		if ($left <= 0) {
			$r{timeout} = 1;
			return \%r;
		}
		next unless $sel->can_read($left);
		my $n = sysread($sock, my $chunk, 65536);
		if (!defined $n) {
			next if $! == EINTR || $! == EAGAIN;
			$r{error} = "$!";
			$r{eof} = 1;
			return \%r;
		}
		if ($n == 0) {
			$r{eof} = 1;
			$r{error} = 'truncated record' if length $buf;
			return \%r;
		}
		$buf .= $chunk;
	}
}

# What fcgi_read returned, on one line, for a failed test's diag.
sub fcgi_describe {
	my ($r) = @_;
	return join(' ', map { "$_=" . (ref $r->{$_} ? "[@{ $r->{$_} }]"
	    : $r->{$_} // '') } sort keys %$r);
}

# Write all of DATA to SOCK; false (with $!) when the peer is gone.
sub fcgi_write {
	my ($sock, $data) = @_;
	local $SIG{PIPE} = 'IGNORE';
	my $off = 0;
	while ($off < length $data) {
		my $n = syswrite($sock, $data, length($data) - $off, $off);
		unless (defined $n) {
			next if $! == EINTR;
			return 0;
		}
		$off += $n;
	}
	return 1;
}

# The CGI parameters of a GET request for PROG of fixture FX (a name
# under T/prog, an absolute path, or undef for no SCRIPT_FILENAME), with
# QUERY_STRING id=ID; MORE (NAME, VALUE, ...) adds parameters or replaces
# these in place.  A list NAME, VALUE, ... for fcgi_pairs.
sub fcgi_cgi_params {
	my ($fx, $prog, $id, @more) = @_;
	my @p = ((defined $prog ? (SCRIPT_FILENAME => $prog =~ m{^/} ? $prog
	    : "$fx->{prog}/$prog") : ()), REQUEST_METHOD => 'GET',
	    QUERY_STRING => "id=$id", SERVER_PROTOCOL => 'HTTP/1.1',
	    GATEWAY_INTERFACE => 'CGI/1.1');
	while (my ($k, $v) = splice(@more, 0, 2)) {
		my ($i) = grep { $p[$_] eq $k } map { 2 * $_ } 0 .. $#p / 2;
		defined $i ? ($p[$i + 1] = $v) : push(@p, $k, $v);
	}
	return @p;
}

# fcgi_request(ADDR, params => {NAME => VALUE} or [NAME, VALUE, ...],
#   stdin => DATA, id => N, timeout => SECONDS)
# One whole responder request; returns what fcgi_read returns, plus
# connect_error when the connection failed.
sub fcgi_request {
	my ($addr, %o) = @_;
	my $id = $o{id} // 1;
	my $s = fcgi_connect($addr, 5)
	    or return { connect_error => "$!", stdout => '', stderr => '' };
	my @kv = ref $o{params} eq 'HASH' ? %{ $o{params} } : @{ $o{params} // [] };
	my $req = fcgi_begin($id) . fcgi_params($id, fcgi_pairs(@kv))
	    . fcgi_stdin($id, $o{stdin});
	fcgi_write($s, $req);
	my $r = fcgi_read($s, $o{timeout} // T(20));
	close $s;
	return $r;
}

1;
