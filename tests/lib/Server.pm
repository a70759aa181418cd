package Server;

# Start and stop real web servers on 127.0.0.1 for the integration tests,
# with configurations generated entirely under a temporary directory, plus
# small polling helpers (every wait is bounded; nothing sleeps blindly).
#
#   use lib "$FindBin::Bin/../lib";
#   use Server qw(apache_start make_tempdir wait_for_data pids_matching);
#
#   my $dir = make_tempdir('apache');
#   my $srv = apache_start(mpm => 'event', cgi => 'mod_cgid', dir => $dir,
#                          conf => "ScriptAlias /cgi-bin/ $dir/cgi-bin/\n");
#   my $r = curl_get($srv->url('/cgi-bin/hello.cgi'));
#   print $srv->error_log;
#   $srv->stop;        # also done by DESTROY and at END
#
#   my $lt = lighttpd_start(dir => "$dir/lighttpd", conf => $text);
#
# Generic parts (for other servers' starters): free_port, wait_for_port,
# wait_for_pid_gone, spawn, make_tempdir, Server->new; the bounded waits and
# file reads of Poll.pm are exported here too.
# instantiate(FILE, NAME => VALUE, ...) reads a configuration snippet of
# etc/ and replaces its @NAME@ placeholders (every one must be given).

use strict;
use warnings;
use Carp qw(croak);
use Cwd ();
use Exporter qw(import);
use File::Copy ();
use File::Temp ();
use File::Path qw(remove_tree);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(:sys_wait_h);
use Scalar::Util qw(weaken);
use Time::HiRes qw(time sleep);
use Poll qw(T wait_for wait_for_file wait_for_data slurp proc_cmdline);

our @EXPORT_OK = qw(
	apache_start have_apache lighttpd_start have_lighttpd instantiate
	make_tempdir free_port wait_for_port wait_for_pid_gone spawn
	T wait_for wait_for_file wait_for_data pids_matching proc_cmdline
	proc_exe www_user chown_www slurp curl_get cgiwrap_behind_apache
	cgiwrap_behind_servers make_dirs cgiwrap_tree cgiwrap_shim
	cgi_bin_alias apache_started wrapbin www_can_run start_on_port
	handler_snippets cgiwrap_bin
);
# Not in :all (tests that predate them define their own of these names).
push @EXPORT_OK, qw(write_file parse_env run_cgi);
our %EXPORT_TAGS = (all => [grep { !/^(?:write_file|parse_env|run_cgi)\z/ }
    @EXPORT_OK]);

our $APACHE     = $ENV{APACHE2} || '/usr/sbin/apache2';
our $APACHE_MOD = '/usr/lib/apache2/modules';
our $LIGHTTPD   = $ENV{LIGHTTPD} || '/usr/sbin/lighttpd';
our $WWW_USER   = 'www-data';

my @live;	# weak references to running servers, stopped at END
my @tmpdirs;	# [path, owner pid] removed at END unless kept

# ---------------------------------------------------------------------------
# Generic helpers

# Write TEXT to PATH and chmod it to MODE.
sub write_file {
	my ($path, $mode, $text) = @_;
	open(my $fh, '>', $path) or croak "$path: $!";
	print $fh $text;
	close $fh or croak "$path: $!";
	chmod $mode, $path or croak "chmod $path: $!";
}

# NAME=VALUE lines (env(1) output, a CGI dump) as a hash reference.
sub parse_env {
	my ($text) = @_;
	my %e;
	for (split /\n/, $text // '') {
		$e{$1} = $2 if /^([A-Za-z_][A-Za-z0-9_]*)=(.*)\z/;
	}
	return \%e;
}

# run_cgi(argv => [PROGRAM, ARGS], env => {NAME => VALUE}, user => USER,
#   stdin => TEXT, timeout => SECONDS)
# Run a program as a web server runs a CGI program: the environment is
# exactly ENV (plus the sanitizer options of ours), stdin a pipe holding
# TEXT (or empty), stdout and stderr pipes read to their end, in a process
# group of its own, as USER (setpriv) when given. Past TIMEOUT (default
# 20 s) the group is killed. Returns { exit => exit status (-1 when
# killed by a signal), signal => N, stdout, stderr, elapsed => seconds,
# killed => 1 when the timeout struck }.
sub run_cgi {
	my (%o) = @_;
	my @argv = @{ $o{argv} };
	unshift @argv, 'setpriv', "--reuid=$o{user}", "--regid=$o{user}",
	    '--clear-groups', '--' if defined $o{user};
	my %env = %{ $o{env} // {} };
	for (qw(ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS)) {
		$env{$_} //= $ENV{$_} if defined $ENV{$_};
	}
	$env{PATH} //= '/usr/local/bin:/usr/bin:/bin';
	my $in = File::Temp->new;
	print $in ($o{stdin} // '');
	close $in;
	pipe(my $out_r, my $out_w) or croak "pipe: $!";
	pipe(my $err_r, my $err_w) or croak "pipe: $!";
	my $t0 = time;
	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		$SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE CHLD);
		POSIX::setpgid(0, 0);
		close $out_r;
		close $err_r;
		open(STDIN, '<', "$in") or POSIX::_exit(125);
		open(STDOUT, '>&', $out_w) or POSIX::_exit(125);
		open(STDERR, '>&', $err_w) or POSIX::_exit(125);
		%ENV = %env;
		{ no warnings 'exec'; exec { $argv[0] } @argv; }
		print STDERR "exec $argv[0]: $!\n";
		POSIX::_exit(127);
	}
	close $out_w;
	close $err_w;
	my %buf = (out => '', err => '');
	my %name = (fileno($out_r) => 'out', fileno($err_r) => 'err');
	my $sel = IO::Select->new($out_r, $err_r);
	my $deadline = time + ($o{timeout} // T(20));
	my $killed;
	while ($sel->count) {
		my $left = $deadline - time;
		if ($left <= 0) {
			kill 'KILL', -$pid;
			$killed = 1;
			last;
		}
		for my $fh ($sel->can_read($left)) {
			my $n = sysread($fh, my $chunk, 65536);
			if (!$n) {
				$sel->remove($fh);
				close $fh;
				next;
			}
			$buf{ $name{ fileno $fh } } .= $chunk;
		}
	}
	my $st;
	my $reaped = sub {
		return 0 unless waitpid($pid, WNOHANG) == $pid;
		$st = $?;
		return 1;
	};
	unless (wait_for($reaped, $killed ? T(5) : $deadline - time + 1)) {
		kill 'KILL', -$pid;
		$killed = 1;
		wait_for($reaped, T(5));
	}
	$st //= -1;
	return { exit => ($st & 127) ? -1 : $st >> 8, signal => $st & 127,
	    stdout => $buf{out}, stderr => $buf{err}, elapsed => time - $t0,
	    killed => $killed };
}

# The text of the configuration snippet FILE with every @NAME@ replaced by
# VARS{NAME}; croaks when FILE names a placeholder that VARS lacks, so a
# snippet and its test cannot drift apart silently.
sub instantiate {
	my ($file, %vars) = @_;
	open(my $fh, '<', $file) or croak "instantiate: $file: $!";
	my $text = do { local $/; <$fh> };
	close $fh;
	my %missing;
	$text =~ s{\@([A-Z][A-Z0-9_]*)\@}{
		exists $vars{$1} ? $vars{$1} : do { $missing{$1} = 1; "\@$1\@" }
	}ge;
	croak "instantiate: $file: no value for "
	    . join(', ', map { "\@$_\@" } sort keys %missing) if %missing;
	return $text;
}

# The executable of a process (readlink /proc/PID/exe), undef when gone.
sub proc_exe {
	my ($pid) = @_;
	my $e = readlink("/proc/$pid/exe");
	$e =~ s/ \(deleted\)\z// if defined $e;
	return $e;
}

# Pids (other than ours) whose command line matches REGEX, sorted; in
# scalar context how many there are (so `!pids_matching(...)` means none).
sub pids_matching {
	my ($re) = @_;
	my @pids;
	opendir(my $dh, '/proc') or return ();
	for my $pid (grep { /^\d+\z/ } readdir $dh) {
		next if $pid == $$;
		my $c = proc_cmdline($pid);
		push @pids, $pid if defined $c && length $c && $c =~ $re;
	}
	@pids = sort { $a <=> $b } @pids;
	return wantarray ? @pids : scalar @pids;
}

# A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Proto => 'tcp', Listen => 1, ReuseAddr => 1)
	    or croak "free_port: cannot bind: $!";
	my $port = $s->sockport;
	close $s;
	return $port;
}

# Croak unless 127.0.0.1:PORT can be bound now (a fixed port: a server
# already there would answer the readiness poll in place of ours).
sub _need_port {
	my ($port, $who) = @_;
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
	    LocalPort => $port, Proto => 'tcp', Listen => 1, ReuseAddr => 1);
	croak "$who: 127.0.0.1:$port: Address already in use" unless $s;
	close $s;
}

# Wait until 127.0.0.1:PORT accepts connections. With PID, give up early
# when that process is gone. True if the port answered within TIMEOUT.
sub wait_for_port {
	my ($port, $timeout, $pid) = @_;
	return wait_for(sub {
		return -1 if $pid && _gone($pid);
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		    PeerPort => $port, Proto => 'tcp', Timeout => 1);
		return 0 unless $s;
		close $s;
		return 1;
	}, $timeout // T(10)) == 1;
}

# Is PID gone? Reaps it when it is our child.
sub _gone {
	my ($pid) = @_;
	my $r = waitpid($pid, WNOHANG);
	return 1 if $r == $pid;
	return 0 if $r == 0;		# our child, still running
	return !kill(0, $pid);		# not our child
}

# Wait until PID is gone (reaped if it is our child); true if within TIMEOUT.
sub wait_for_pid_gone {
	my ($pid, $timeout) = @_;
	return wait_for(sub { _gone($pid) }, $timeout // T(10));
}

# Start ARGV in the background in a process group of its own (Apache in
# the foreground signals its whole process group when it stops), with stdin
# from /dev/null and stdout and stderr appended to OUTFILE (or /dev/null).
# Returns the pid. While any is running, SIGINT, SIGTERM, SIGHUP and
# SIGPIPE (the reader of the test's output went away) make the test exit
# through END, which stops the servers.
sub spawn {
	my ($argv, $outfile) = @_;
	_catch_signals();
	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		$SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE CHLD);
		POSIX::setpgid(0, 0);
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>>', $outfile // '/dev/null');
		open(STDERR, '>&', \*STDOUT);
		{ no warnings 'exec'; exec { $argv->[0] } @$argv; }
		print STDERR "exec $argv->[0]: $!\n";
		POSIX::_exit(127);
	}
	return $pid;
}

sub _catch_signals {
	for my $sig (qw(INT TERM HUP PIPE)) {
		my $h = $SIG{$sig};
		next if defined $h && $h ne '' && $h ne 'DEFAULT';
		my $n = { INT => 2, TERM => 15, HUP => 1, PIPE => 13 }->{$sig};
		$SIG{$sig} = sub {
			# Output may be gone: END must not die of SIGPIPE again.
			$SIG{PIPE} = 'IGNORE';
			print STDERR "# caught SIG$sig\n";
			exit 128 + $n;
		};
	}
}

sub www_user { return $WWW_USER }

# The binary under test ($CGIWRAP or the repository's cgiwrap) as the
# servers are to run it: a copy in a new directory of make_tempdir, since
# www-data may not enter the clone (under /root, mode 0700, say).  A
# missing binary is left for the callers' checks to name.
sub cgiwrap_bin {
	my $bin = $ENV{CGIWRAP} || (__FILE__ =~ s{[^/]+$}{}r) . '../../cgiwrap';
	$bin = Cwd::abs_path($bin) // $bin;
	return -f $bin ? _install($bin, make_tempdir('bin') . '/cgiwrap') : $bin;
}

# skip_all unless root (the servers then run CGIs as www-data) and every
# server of SERVERS ('apache', 'lighttpd') is installed.
sub _need_servers {
	my (@servers) = @_;
	Test::More::plan(skip_all => 'must run as root (the servers then run '
	    . 'CGIs as www-data)') if $> != 0;
	my %have = (apache => [\&have_apache, "apache2 ($APACHE"],
	    lighttpd => [\&have_lighttpd, "lighttpd ($LIGHTTPD"]);
	for my $s (@servers) {
		my ($have, $what) = @{ $have{$s} // croak "no server $s" };
		Test::More::plan(skip_all => "$what is not installed; "
		    . 'tests/deps.sh installs it)') unless $have->();
	}
}

# For a test of cgiwrap behind real servers (handler mode): skip_all as
# _need_servers(SERVERS); then curl (unless curl => 0) and the binary are
# required (BAIL_OUT).  Returns the path of cgiwrap_bin().
sub cgiwrap_behind_servers {
	my (%o) = @_;
	_need_servers(@{ $o{servers} });
	my $bin = cgiwrap_bin();
	Test::More::ok(scalar(grep { -x "$_/curl" } split /:/,
	    $ENV{PATH} // ''), 'curl is installed')
	    or Test::More::BAIL_OUT('no curl') if $o{curl} // 1;
	Test::More::ok(-x $bin, "$bin exists (run make)")
	    or Test::More::BAIL_OUT('no cgiwrap');
	return $bin;
}

# For a test of cgiwrap behind Apache: skip_all when not root or Apache is
# missing; then curl, the user www-data and the binary (executable by that
# user) are required (failures, not skips: the test ends there).  Returns
# the path of cgiwrap_bin().
sub cgiwrap_behind_apache {
	_need_servers('apache');
	my $bin = cgiwrap_bin();
	my $ready = Test::More::ok(scalar(grep { -x "$_/curl" } split /:/,
	    $ENV{PATH} // ''), 'curl is installed')
	    || Test::More::diag('tests/deps.sh installs it');
	$ready &&= www_can_run($bin);
	unless ($ready) {
		Test::More::done_testing();
		exit 1;
	}
	return $bin;
}

# Checks: the user www-data exists and can execute BIN.
sub www_can_run {
	my ($bin) = @_;
	return Test::More::ok(scalar getpwnam($WWW_USER),
	    "user $WWW_USER exists")
	    && (Test::More::ok(-x $bin && system('setpriv',
	    "--reuid=$WWW_USER", "--regid=$WWW_USER", '--clear-groups',
	    'test', '-x', $bin) == 0, "$bin is executable by $WWW_USER")
	    || Test::More::diag(-e $bin ? "not executable by $WWW_USER"
	    : 'missing (run make)'));
}

# chown PATHs to the web server's user and group.
sub chown_www {
	my (@paths) = @_;
	my (undef, undef, $uid, $gid) = getpwnam($WWW_USER)
	    or croak "no user $WWW_USER";
	chown($uid, $gid, @paths) == @paths or croak "chown @paths: $!";
}

# DIR/NAME for every one of NAMES, mode 0755 (the web server's user
# traverses them).
sub make_dirs {
	my ($dir, @names) = @_;
	for my $d (@names) {
		mkdir "$dir/$d" or croak "mkdir $dir/$d: $!";
		chmod 0755, "$dir/$d";
	}
}

# cgiwrap_tree(TAG, dirs => [NAMES], www => [NAMES], root => NAME,
#   set => TEXT, conf => TEXT, rec => TEXT)
# The tree of a test of cgiwrap run by a web server (as www-data): a new
# directory T (make_tempdir(TAG), absolute) with the subdirectories NAMES
# of dirs (rec and var among them), rec, var and those of www owned by
# www-data; T/cgiwrap.conf: roots = {"T/ROOT"}, log = "T/var/cgiwrap.log",
# kill_grace = 1s, the settings of set, the shutdown command "rec"
# running T/rec.sh, then conf (script sections); T/rec.sh: rec, by
# default a script writing its environment atomically to T/rec/CGIWRAP_PID.
# conf and rec may be code references, given T, that return the text.
# Returns (T, the config's path, the log's path).
sub cgiwrap_tree {
	my ($tag, %o) = @_;
	my $t = Cwd::abs_path(make_tempdir($tag));
	make_dirs($t, @{ $o{dirs} });
	chown_www(map { "$t/$_" } qw(rec var), @{ $o{www} // [] });
	my ($conf, $log) = ("$t/cgiwrap.conf", "$t/var/cgiwrap.log");
	my %text = map { ($_ => ref $o{$_} ? $o{$_}->($t) : $o{$_}) }
	    qw(conf rec);
	write_file($conf, 0644, <<"EOF" . ($text{conf} // ''));
roots = {"$t/$o{root}"}
log = "$log"
kill_grace = 1s
@{[ $o{set} // '' ]}shutdown "rec" {
    command = {"$t/rec.sh"}
}
EOF
	write_file("$t/rec.sh", 0755, $text{rec} // <<"EOF");
#!/bin/sh
# The shutdown command's environment, written atomically.
tmp="$t/rec/.tmp.\$\$"
env > "\$tmp" && mv "\$tmp" "$t/rec/\${CGIWRAP_PID:-nopid.\$\$}"
EOF
	return ($t, $conf, $log);
}

# A copy of the cgiwrap BIN as T/wrapbin/cgiwrap (where the handler
# snippets of etc/ look for it), and T/wrapbin/nph-cgiwrap a symlink to
# it; returns its path.
sub wrapbin {
	my ($bin, $t) = @_;
	my $wrap = _install($bin, "$t/wrapbin/cgiwrap");
	# For nph- scripts, as etc/ and the package have it.
	symlink('cgiwrap', "$t/wrapbin/nph-cgiwrap")
	    or croak "symlink $t/wrapbin/nph-cgiwrap: $!";
	return $wrap;
}

# A copy of the program SRC as DST, mode 0755; returns DST.
sub _install {
	my ($src, $dst) = @_;
	File::Copy::copy($src, $dst) or croak "copy $src: $!";
	chmod 0755, $dst or croak "chmod $dst: $!";
	return $dst;
}

# The handler-mode snippets of etc/ (apache-action.conf,
# apache-scriptalias.conf, lighttpd.conf) instantiated with VARS, as
# T/conf/NAME.
sub handler_snippets {
	my ($t, %vars) = @_;
	my $etc = (__FILE__ =~ s{[^/]+$}{}r) . '../../etc';
	write_file("$t/conf/$_", 0644, instantiate("$etc/$_", %vars))
	    for qw(apache-action.conf apache-scriptalias.conf lighttpd.conf);
}

# T/cgi-bin/NAME.cgi: a shim that runs T/prog/NAME through the cgiwrap
# BIN with the config CONF.
sub cgiwrap_shim {
	my ($bin, $conf, $t, $name) = @_;
	write_file("$t/cgi-bin/$name.cgi", 0755,
	    "#!/bin/sh\nexec '$bin' -c '$conf' -- '$t/prog/$name'\n");
}

# Apache configuration serving the programs of T/cgi-bin/ as /cgi-bin/.
sub cgi_bin_alias {
	my ($t) = @_;
	return <<"EOF";
ScriptAlias /cgi-bin/ "$t/cgi-bin/"
<Directory "$t/cgi-bin">
    Options +ExecCGI
    Require all granted
</Directory>
EOF
}

# apache_start(OPTIONS) as a check named NAME: the server, or undef once
# the failed check has shown why.
sub apache_started {
	my ($name, %o) = @_;
	my $srv = eval { apache_start(%o) };
	Test::More::ok($srv, $name) or Test::More::diag($@);
	return $srv;
}

# A new directory under $TMPDIR (or /tmp), mode 0755 so that the web
# server's user can read and traverse it. Removed at exit unless the test
# failed or CGIWRAP_KEEP_TMP is set (then its path is printed).
sub make_tempdir {
	my ($tag) = @_;
	$tag = defined $tag ? "-$tag" : '';
	$tag =~ s/[^\w.-]/_/g;
	# www-data must traverse every parent: $TMPDIR only if it allows that.
	my $base = $ENV{TMPDIR};
	$base = '/tmp' unless $base && _world_traversable($base);
	my $dir = File::Temp::tempdir("cgiwrap$tag-XXXXXX", DIR => $base);
	chmod 0755, $dir or croak "chmod $dir: $!";
	push @tmpdirs, [$dir, $$];
	return $dir;
}

sub _world_traversable {
	my ($path) = @_;
	my $p = Cwd::abs_path($path) // return 0;
	while (1) {
		my @st = stat $p or return 0;
		return 0 unless $st[2] & 0001;
		last if $p eq '/';
		$p =~ s{/[^/]*\z}{};
		$p = '/' if $p eq '';
	}
	return 1;
}

# ---------------------------------------------------------------------------
# The server object (any server: the starters fill in the fields)

# Server->new(name => 'apache', pid => PID, port => PORT, dir => DIR,
#   error_log => PATH, stop_signal => 'WINCH', stop_timeout => SECONDS,
#   leftover => REGEX of the server's own processes' command lines)
sub new {
	my ($class, %f) = @_;
	my $self = bless { stop_signal => 'TERM', stop_timeout => 10, %f,
	    owner => $$ }, $class;
	push @live, $self;
	weaken($live[-1]);
	return $self;
}

sub port { $_[0]{port} }
sub ports { @{ $_[0]{ports} // [$_[0]{port}] } }
sub pid  { $_[0]{pid} }
sub dir  { $_[0]{dir} }
sub name { $_[0]{name} }
sub running { my $s = shift; return $s->{pid} && !$s->{stopped} }

# URL of PATH on the server's main port, or on PORT.
sub url {
	my ($self, $path, $port) = @_;
	$path //= '/';
	$path = "/$path" unless $path =~ m{^/};
	return "http://127.0.0.1:" . ($port // $self->{port}) . $path;
}

sub error_log_path { $_[0]{error_log} }
sub error_log { slurp($_[0]{error_log}) }

# Stop the server: its stop signal, wait (bounded) for the main pid to be
# gone, escalate to TERM and KILL, then kill any of its processes left
# (matched by `leftover`). True if it stopped by its stop signal alone and
# left nothing; the reason for false is in ->{stop_problem}.
sub stop {
	my ($self) = @_;
	return 1 if !$self->{pid} || $self->{stopped};
	return 1 if $self->{owner} != $$;	# a forked copy: not ours
	my $pid = $self->{pid};
	my @problems;
	kill $self->{stop_signal}, $pid;
	unless (wait_for_pid_gone($pid, T($self->{stop_timeout}))) {
		push @problems, "$self->{name} pid $pid ignored "
		    . "SIG$self->{stop_signal} for $self->{stop_timeout}s";
		kill 'TERM', $pid;
		unless (wait_for_pid_gone($pid, T(5))) {
			kill 'KILL', $pid;
			wait_for_pid_gone($pid, T(5))
			    or push @problems, "pid $pid survived SIGKILL";
		}
	}
	if (my $re = $self->{leftover}) {
		unless (wait_for(sub { !pids_matching($re) }, T(5))) {
			my @left = pids_matching($re);
			push @problems, "left processes: "
			    . join(', ', map { "$_ (" . (proc_cmdline($_) // '') . ")" } @left);
			kill 'KILL', @left;
		}
	}
	$self->{stopped} = 1;
	$self->{stop_problem} = join('; ', @problems);
	return !@problems;
}

sub stop_problem { $_[0]{stop_problem} // '' }

sub DESTROY {
	my ($self) = @_;
	local ($?, $!, $@);
	$self->stop if $self->{owner} && $self->{owner} == $$;
}

END {
	local ($?, $!, $@);
	for my $s (grep { defined } @live) {
		$s->stop if $s->{owner} == $$;
	}
	my $failed = eval {
		require Test::Builder;
		!Test::Builder->new->is_passing;
	};
	for my $t (grep { $_->[1] == $$ } @tmpdirs) {
		next unless -d $t->[0];
		if ($ENV{CGIWRAP_KEEP_TMP} || $failed) {
			print STDERR "# kept $t->[0]\n";
		} else {
			remove_tree($t->[0], { safe => 0 });
		}
	}
}

# ---------------------------------------------------------------------------
# Apache 2.4 (Debian layout)

sub have_apache { return -x $APACHE && -d $APACHE_MOD }

my %builtin;	# modules compiled into the apache2 binary
sub _apache_builtin {
	unless (%builtin) {
		for (`$APACHE -l 2>/dev/null`) {
			$builtin{$1} = 1 if /^\s*mod_(\w+)\.c\s*$/;
		}
		$builtin{'-'} = 1;
	}
	return \%builtin;
}

sub _apache_conf {
	my (%o) = @_;
	my ($dir, $port, $mpm, $cgi) = @o{qw(dir port mpm cgi)};
	my $listen = join('', map { "Listen 127.0.0.1:$_\n" } $port,
	    @{ $o{extra} // [] });
	my $extra = ref $o{conf} eq 'CODE'
	    ? $o{conf}->($port, @{ $o{extra} // [] }) : $o{conf};
	my $run = "$dir/run";
	my @mods = ("mpm_$mpm", qw(authz_core mime alias), $cgi,
	    qw(env setenvif actions dir log_config));
	my $builtin = _apache_builtin();
	my $load = '';
	for my $m (@mods) {
		next if $builtin->{$m};
		my $so = "$APACHE_MOD/mod_$m.so";
		croak "apache_start: no module $so" unless -f $so;
		$load .= "LoadModule ${m}_module $so\n";
	}
	my $mpmconf = $mpm eq 'prefork'
	    ? "StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\n"
	      . "MaxRequestWorkers 16\n"
	    : "StartServers 1\nServerLimit 2\nThreadsPerChild 16\n"
	      . "MaxRequestWorkers 32\nMinSpareThreads 4\nMaxSpareThreads 32\n";
	my $cgiconf = $cgi eq 'cgid' ? "ScriptSock $run/cgid.sock\n" : '';
	my @pass = grep { defined $ENV{$_} }
	    (qw(ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS), @{ $o{pass_env} // [] });
	my $pass = @pass ? "PassEnv @pass\n" : '';
	my $types = -r '/etc/mime.types' ? '/etc/mime.types' : '/dev/null';
	my $user = $WWW_USER;
	return <<"EOF" . ($extra // '') . "\n";
# generated by tests/lib/Server.pm
ServerRoot "$dir"
ServerName 127.0.0.1
$listen
$load
PidFile "$run/apache2.pid"
DefaultRuntimeDir "$run"
Mutex file:$run default
ScoreBoardFile "$run/scoreboard"
ErrorLog "$dir/error.log"
LogLevel info
LogFormat "%h \\"%r\\" %>s %b %D" timed
CustomLog "$dir/access.log" timed
User $user
Group $user
$mpmconf
$cgiconf
GracefulShutdownTimeout 5
Timeout 30
KeepAlive Off
TypesConfig $types
$pass
DocumentRoot "$dir/htdocs"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "$dir/htdocs">
    Require all granted
</Directory>
# extra configuration
EOF
}

# apache_start(mpm => 'prefork'|'event', cgi => 'mod_cgi'|'mod_cgid',
#   dir => DIR, conf => TEXT, pass_env => [NAMES], timeout => SECONDS,
#   port => PORT, extra_ports => N, wrap => [ARGV])
# Start /usr/sbin/apache2 -DFOREGROUND in the background on 127.0.0.1 and
# a free port (or PORT, then without retries), with a config generated
# under DIR (made if not given), as root with User/Group www-data.
# extra_ports => N makes it listen on N more free ports too ($srv->ports
# lists them all, the main one first); conf may then be a CODE reference,
# called with the ports, that returns the text (for <VirtualHost>s).
# wrap is a command that execs the rest of its arguments, Apache's command
# line (as unshare(1) does), so that the server keeps its pid.
# Returns a Server object once the ports answer; croaks with the error log
# when it does not start.
sub apache_start {
	my (%o) = @_;
	$o{mpm} //= 'prefork';
	$o{cgi} //= $o{mpm} eq 'prefork' ? 'mod_cgi' : 'mod_cgid';
	$o{mpm} =~ /^(prefork|event|worker)\z/
	    or croak "apache_start: unknown mpm $o{mpm}";
	($o{cgi} = $o{cgi}) =~ s/^mod_//;
	$o{cgi} =~ /^cgid?\z/ or croak "apache_start: unknown cgi $o{cgi}";
	croak "apache_start: $APACHE is missing" unless -x $APACHE;
	my $dir = _server_dir($o{dir}, "apache-$o{mpm}");
	my $conffile = "$dir/apache2.conf";
	my $out = "$dir/apache2.out";
	return start_on_port('apache_start', 'apache2', $o{port},
	    [$out, "$dir/error.log"], sub {
		my ($port) = @_;
		my @extra = _more_ports($o{extra_ports} // 0, $port);
		open(my $fh, '>', $conffile) or croak "$conffile: $!";
		print $fh _apache_conf(%o, dir => $dir, port => $port,
		    extra => \@extra);
		close $fh or croak "$conffile: $!";
		unlink "$dir/error.log", $out;
		my $pid = spawn([@{ $o{wrap} // [] }, $APACHE, '-d', $dir,
		    '-f', $conffile, '-DFOREGROUND'], $out);
		my $self = Server->new(name => "apache-$o{mpm}-$o{cgi}",
		    pid => $pid, port => $port, ports => [$port, @extra],
		    dir => $dir,
		    conffile => $conffile, error_log => "$dir/error.log",
		    stop_signal => 'WINCH', stop_timeout => 10,
		    leftover => qr/^\Q$APACHE\E .*-f \Q$conffile\E(?: |\z)/);
		return ($self, _all_ports($o{timeout} // T(15), $pid, $port, @extra));
	});
}

# DIR (or a new directory for TAG) with DIR/run and DIR/htdocs, all 0755.
sub _server_dir {
	my ($dir, $tag) = @_;
	$dir //= make_tempdir($tag);
	$dir =~ s{/+\z}{};
	for my $d ($dir, "$dir/run", "$dir/htdocs") {
		-d $d or mkdir $d or croak "mkdir $d: $!";
		chmod 0755, $d;
	}
	return $dir;
}

# Start the server NAME for WHO (a starter's name) with START(PORT) on
# PORT, or on a free port with up to three tries (another process may take
# it first); START returns the Server object and whether it answered.
# Croaks with the logs LOGS (files) when it did not answer.
sub start_on_port {
	my ($who, $name, $port, $logs, $start) = @_;
	_need_port($port, $who) if $port;
	my $last = '';
	for my $attempt (1 .. ($port ? 1 : 3)) {
		my ($self, $answered) = $start->($port // free_port());
		return $self if $answered;
		$last = join('', map { slurp($_) } @$logs);
		$self->stop;
		next if $last =~ /Address already in use/;	# lost a race
		last;
	}
	croak "$who: $name did not answer:\n$last";
}

# N free ports other than the ones in AVOID.
sub _more_ports {
	my ($n, @avoid) = @_;
	my %seen = map { $_ => 1 } @avoid;
	my @p;
	for (1 .. 50 * $n) {
		last if @p == $n;
		my $p = free_port();
		push @p, $p unless $seen{$p}++;
	}
	croak "no $n free ports" if @p < $n;
	return @p;
}

# Wait (TIMEOUT in all) until every one of PORTS answers; false early
# when PID is gone.
sub _all_ports {
	my ($timeout, $pid, @ports) = @_;
	my $deadline = time + $timeout;
	for my $p (@ports) {
		return 0 unless wait_for_port($p, $deadline - time, $pid);
	}
	return 1;
}

# ---------------------------------------------------------------------------
# lighttpd 1.4 (Debian layout)

sub have_lighttpd { return -x $LIGHTTPD }

sub _lighttpd_conf {
	my (%o) = @_;
	my ($dir, $port) = @o{qw(dir port)};
	my @pass = grep { defined $ENV{$_} }
	    (qw(ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS), @{ $o{pass_env} // [] });
	# lighttpd gives CGIs no variable of its own environment: the ones
	# to pass are set explicitly (mod_setenv; += merges with snippets).
	my $pass = '';
	if (@pass) {
		$pass = "server.modules += (\"mod_setenv\")\n"
		    . "setenv.set-environment += (\n" . join('', map {
		    "    \"$_\" => \"" . _lq($ENV{$_}) . "\",\n" } @pass) . ")\n";
	}
	my $user = $WWW_USER;
	return <<"EOF" . ($o{conf} // '') . "\n";
# generated by tests/lib/Server.pm
server.document-root = "$dir/htdocs"
server.bind = "127.0.0.1"
server.port = $port
server.username = "$user"
server.groupname = "$user"
server.pid-file = "$dir/run/lighttpd.pid"
server.upload-dirs = ( "$dir/run" )
server.modules = ( "mod_access", "mod_alias", "mod_accesslog" )
accesslog.filename = "$dir/access.log"
accesslog.format = "%h \\"%r\\" %>s %b %D"
# Stream responses as they come (the default, 0, buffers them whole).
server.stream-response-body = 2
server.stream-request-body = 2
# No server.errorlog: lighttpd in the foreground logs to its stderr, and
# CGI programs inherit that stderr; both go to DIR/error.log.
$pass
# extra configuration
EOF
}

# A string for a lighttpd config's double quotes.
sub _lq {
	my ($s) = @_;
	$s =~ s/(["\\])/\\$1/g;
	return $s;
}

# lighttpd_start(dir => DIR, conf => TEXT, pass_env => [NAMES],
#   timeout => SECONDS, port => PORT)
# Start /usr/sbin/lighttpd -D in the background (own process group) on
# 127.0.0.1 and a free port (or PORT), with a config generated under DIR
# (made if not given), as root with server.username www-data, so CGIs run
# as www-data. Its stderr, which its CGIs inherit, is DIR/error.log.
# Returns a Server object once the port answers; croaks with the log when
# it does not start (the config is checked with -tt first).
sub lighttpd_start {
	my (%o) = @_;
	croak "lighttpd_start: $LIGHTTPD is missing" unless -x $LIGHTTPD;
	my $dir = _server_dir($o{dir}, 'lighttpd');
	my $conffile = "$dir/lighttpd.conf";
	my $log = "$dir/error.log";
	return start_on_port('lighttpd_start', 'lighttpd', $o{port}, [$log],
	    sub {
		my ($port) = @_;
		open(my $fh, '>', $conffile) or croak "$conffile: $!";
		print $fh _lighttpd_conf(%o, dir => $dir, port => $port);
		close $fh or croak "$conffile: $!";
		unlink $log;
		# Opened after lighttpd became www-data.
		open(my $al, '>>', "$dir/access.log") or croak "$dir/access.log: $!";
		close $al;
		chown_www("$dir/access.log");
		my $check = `'$LIGHTTPD' -tt -f '$conffile' 2>&1`;
		croak "lighttpd_start: $conffile is refused:\n$check" if $?;
		my $pid = spawn([$LIGHTTPD, '-D', '-f', $conffile], $log);
		my $self = Server->new(name => 'lighttpd', pid => $pid,
		    port => $port, dir => $dir, conffile => $conffile,
		    error_log => $log, stop_signal => 'TERM', stop_timeout => 10,
		    leftover => qr/^\Q$LIGHTTPD\E .*-f \Q$conffile\E(?: |\z)/);
		return ($self, wait_for_port($port, $o{timeout} // T(15), $pid));
	});
}

# ---------------------------------------------------------------------------
# HTTP client (curl)

# curl_get(URL, max_time => SECONDS, out => FILE, args => [...])
# Returns { rc => curl exit status, code => HTTP status, body => text,
# err => curl's stderr, elapsed => seconds }.
sub curl_get {
	my ($url, %o) = @_;
	my $tmp = File::Temp->new;
	my $err = File::Temp->new;
	my @cmd = ('curl', '-sS', '-o', $o{out} // "$tmp",
	    '-w', '%{http_code}', '--max-time', $o{max_time} // 20,
	    @{ $o{args} // [] }, $url);
	my $t0 = time;
	my $pid = open(my $fh, '-|') // croak "fork: $!";
	if (!$pid) {
		open(STDERR, '>', "$err");
		{ no warnings 'exec'; exec { $cmd[0] } @cmd; }
		POSIX::_exit(127);
	}
	my $code = do { local $/; <$fh> } // '';
	close $fh;
	my $rc = $? >> 8;
	return { rc => $rc, code => $code, body => slurp($o{out} // "$tmp"),
	    err => slurp("$err"), elapsed => time - $t0 };
}

1;
