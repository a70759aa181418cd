package Harness;

# Integration-test harness that plays the web server for cgiwrap: the test
# owns the other ends of cgiwrap's stdin, stdout and stderr, in one of two
# shapes:
#
#   pipes   three pipes (stdin, stdout, stderr), as Apache mod_cgi;
#   socket  one AF_UNIX SOCK_STREAM socketpair as stdin and stdout plus a
#           pipe for stderr, as mod_cgid, which after the request body
#           half-closes its end with shutdown(SHUT_WR).
#
#   use FindBin; use lib "$FindBin::Bin/../lib";
#   use Harness;
#
#   both_modes 'a normal request' => sub {
#       my ($mode) = @_;
#       my $t = Harness->new(conf => { max_execution_time => '1s' });
#       my $prog = $t->script('prog.sh', <<'SH');
#   echo $$ > "$D/child.pid"
#   printf 'Content-Type: text/plain\r\n\r\nhello\n'
#   SH
#       my $r = $t->run(mode => $mode, argv => [$prog]);
#       $r->finish(T(5));            # read stdout/stderr to EOF, reap
#       is $r->exit_value, 0;
#       # the shutdown command ran once, the log line is there, no
#       # process left; then the fields of both (CGIWRAP_ prefix implied)
#       my ($rec, $log) = $t->ended({ STATUS => 0 }, { status => 'NORMAL' });
#   };
#
# Every Harness object is one temporary directory DIR with
#   DIR/cgiwrap.conf  the config (0644): log = "DIR/log", kill_grace = 1s,
#                     shutdown "rec" running DIR/rec.sh, plus the test's own;
#   DIR/rec.sh        the shutdown command: appends "PID STATUS" to
#                     DIR/rec/count, then writes its environment (env -0)
#                     atomically to DIR/rec/$CGIWRAP_PID;
#   DIR/log           cgiwrap's log file.
# Test programs are /bin/sh scripts written into DIR (their first lines set
# D=DIR), so every process of a test carries DIR in its command line; that
# is the marker for "no process left" checks.  $t->sleeper(NAME) gives a
# symlink DIR/NAME to sleep(1) so a background sleep is recognisable too.
#
# Every wait is bounded; nothing sleeps in place of synchronisation (the
# polls below sleep POLL seconds between looks at a file, a pipe or a pid).
#
# Environment: CGIWRAP (the binary; default ./cgiwrap of the repository),
# HARNESS_MODES ("pipes", "socket" or both, the default), HARNESS_KEEP=1
# (keep every test directory; failed tests always keep theirs),
# CGIWRAP_TEST_SLOW=N (multiply the upper bounds of waits by N, see T in
# Poll.pm, whose waits and file reads Harness exports too).

use strict;
use warnings;
use Carp qw(croak);
use Cwd qw(realpath);
use Digest::SHA ();
use Errno qw(EAGAIN EINTR EPIPE ECONNRESET EWOULDBLOCK);
use Exporter qw(import);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h _exit dup2);
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC SHUT_WR);
use JSON::PP ();
use Test::More ();
use Time::HiRes qw(time sleep);

use Poll qw(T wait_for wait_for_file wait_for_data slurp slurp_or_undef
	proc_cmdline);

our @EXPORT = qw(
	both_modes wait_for wait_for_file wait_for_data read_env_file
	parse_log_line split_response header_fields pids_alive
	procs_with_marker proc_cmdline sha256_file slurp slurp_or_undef T
	check_fields
);

our $TOP = realpath(dirname(__FILE__) . '/../..');
our $CGIWRAP = $ENV{CGIWRAP} || "$TOP/cgiwrap";
our @MODES = $ENV{HARNESS_MODES} ? split(/[ ,]+/, $ENV{HARNESS_MODES})
    : qw(pipes socket);

# The harness writes to pipes whose reader may be gone: EPIPE, not death.
# (Every process it starts gets the default disposition back.)
$SIG{PIPE} = 'IGNORE';

# Run CODE once per mode, each as a subtest named "NAME [MODE]".
sub both_modes {
	my ($name, $code) = @_;
	for my $mode (@MODES) {
		local $Poll::DEGRADED = 0;
		Test::More::subtest("$name [$mode]" => sub { $code->($mode) });
	}
}

# ---------------------------------------------------------------------------
# Generic helpers

# A file of NAME=VALUE records separated by NULs (env -0) or newlines.
sub read_env_file {
	my ($path) = @_;
	my $s = slurp_or_undef($path);
	return undef unless defined $s;
	my $sep = $s =~ /\0/ ? "\0" : "\n";
	my %h;
	for my $kv (split /$sep/, $s) {
		next unless $kv =~ /^([^=]+)=(.*)\z/s;
		$h{$1} = $2;
	}
	return \%h;
}

# A log line of either log_format as a hash: its timestamp as time, the
# key=value pairs ("quoted" values with their \xHH escapes undone) or the
# JSON object's members (bytes as in the request: \u00HH is a byte), and
# _line.  Undef when the line is not wholly one of the two forms.
sub parse_log_line {
	my ($line) = @_;
	my %h;
	if ($line =~ /\A\{/) {
		my $o = eval { JSON::PP->new->decode($line) };
		return undef unless ref $o eq 'HASH';
		%h = %$o;
	} else {
		$line =~ /\A(\S+)/gc or return undef;
		$h{time} = $1;
		while ($line =~ /\G ([A-Za-z_][\w.-]*)=("(?:[^"\\]|\\x[0-9a-f]{2})*"|[^\s"\\]+)/gc) {
			my ($k, $v) = ($1, $2);
			$v =~ s/\\x([0-9a-f]{2})/chr hex $1/ge
			    if $v =~ s/\A"(.*)"\z/$1/s;
			$h{$k} = $v;
		}
		return undef unless (pos($line) // 0) == length $line;
	}
	$h{_line} = $line;
	return \%h;
}

# Split a CGI response into its header block (blank line excluded) and the
# body; the header is undef when no complete block is there.
sub split_response {
	my ($s) = @_;
	return (undef, $s) unless $s =~ /\A(.*?)\r?\n\r?\n/s;
	my $head = $1;
	return ($head, substr($s, $+[0]));
}

# Header fields as a hash of lower-cased names (last one wins).
sub header_fields {
	my ($head) = @_;
	my %h;
	for my $l (split /\r?\n/, $head // '') {
		$h{lc $1} = $2 if $l =~ /^([^:\s]+):[ \t]*(.*?)[ \t]*\z/;
	}
	return \%h;
}

# Check fields of a hash: WANT maps a key to a value (is), a regexp (like)
# or an array of allowed values.  PREFIX is put before every key
# ("CGIWRAP_" for a shutdown record).
sub check_fields {
	my ($got, $want, $prefix) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	$prefix //= '';
	$got ||= {};
	for my $k (sort keys %$want) {
		my ($w, $v) = ($want->{$k}, $got->{"$prefix$k"});
		if (ref $w eq 'Regexp') {
			Test::More::like($v, $w, "$prefix$k");
		} elsif (ref $w eq 'ARRAY') {
			Test::More::ok(defined $v && grep({ $_ eq $v } @$w),
			    "$prefix$k is one of @$w")
			    or Test::More::diag('got: ' . ($v // 'undef'));
		} else {
			Test::More::is($v, $w, "$prefix$k");
		}
	}
}

# Fail the whole file at once when there is no binary to test.
sub require_binary {
	return if -x $CGIWRAP;
	Test::More::plan(tests => 1);
	Test::More::fail("no executable cgiwrap at $CGIWRAP (run make)");
	exit 1;
}

sub sha256_file {
	my ($path) = @_;
	return Digest::SHA->new(256)->addfile($path, 'b')->hexdigest;
}

# Pids (other than ours) whose command line contains MARKER.  Zombies have
# an empty command line and so never match.
sub procs_with_marker {
	my ($marker) = @_;
	my @p;
	opendir(my $d, '/proc') or return ();
	for my $pid (grep { /^\d+\z/ } readdir $d) {
		next if $pid == $$;
		my $c = proc_cmdline($pid);
		push @p, $pid + 0 if defined $c && index($c, $marker) >= 0;
	}
	@p = sort { $a <=> $b } @p;
	return @p;	# a count in scalar context
}

# Those of PIDS that still exist and are not zombies.
sub pids_alive {
	my @alive;
	for my $pid (@_) {
		next unless defined $pid && $pid =~ /^\d+\z/ && $pid > 1;
		my $st = slurp_or_undef("/proc/$pid/stat");
		next unless defined $st;
		next if $st =~ /^\d+ \(.*\) [ZX] /s;
		push @alive, $pid;
	}
	return @alive;
}

# ---------------------------------------------------------------------------
# One test directory with its config

my %BASE = (
	kill_grace => '1s',
);

# Harness->new(
#     conf      => { option => 'raw value', ... },  # over the base options
#     extra     => 'raw config text',   # appended (script sections etc.);
#                                       # @D@ in it stands for DIR
#     shutdown  => 0,                   # no shutdown "rec" section
#     conf_text => 'whole file',        # written verbatim instead
#     conf_mode => 0644,
# )
sub new {
	my ($class, %o) = @_;
	my $dir = tempdir('cgiwrap-integ-XXXXXXXX', TMPDIR => 1, CLEANUP => 0);
	$dir = realpath($dir);
	chmod 0755, $dir;
	my $self = bless { dir => $dir, runs => [], opt => \%o }, $class;
	mkdir "$dir/rec" or croak "mkdir $dir/rec: $!";
	$self->write_file('rec.sh', <<"SH", 0755);
#!/bin/sh
# shutdown command of the harness: count, then record the environment
R='$dir/rec'
echo "\${CGIWRAP_PID:-none} \${CGIWRAP_STATUS:-none}" >> "\$R/count"
env -0 > "\$R/.tmp.\$\$" && mv -f "\$R/.tmp.\$\$" "\$R/\${CGIWRAP_PID:-none}"
SH
	my $text = defined $o{conf_text} ? $o{conf_text} : $self->base_conf(%o);
	$self->write_file('cgiwrap.conf', $text, $o{conf_mode} // 0644);
	return $self;
}

# The config text of the harness (for tests that build their own on it).
sub base_conf {
	my ($self, %o) = @_;
	my $dir = $self->{dir};
	my %opt = (%BASE, %{ $o{conf} || {} });
	my $s = "log = \"$dir/log\"\n";
	for my $k (sort keys %opt) {
		next unless defined $opt{$k};
		$s .= "$k = $opt{$k}\n";
	}
	unless (defined $o{shutdown} && !$o{shutdown}) {
		$s .= "shutdown \"rec\" {\n"
		    . "    command = {\"$dir/rec.sh\"}\n"
		    . "    timeout = 5s\n"
		    . "}\n";
	}
	$s .= $o{extra} =~ s/\@D\@/$dir/gr if defined $o{extra};
	return $s;
}

sub dir { $_[0]{dir} }
sub conf { "$_[0]{dir}/cgiwrap.conf" }
sub path { my ($self, $name) = @_; return "$self->{dir}/$name" }

sub write_file {
	my ($self, $name, $content, $mode) = @_;
	my $p = $self->path($name);
	open(my $fh, '>:raw', $p) or croak "write $p: $!";
	print $fh $content;
	close $fh or croak "close $p: $!";
	chmod($mode // 0644, $p) or croak "chmod $p: $!";
	return $p;
}

# A /bin/sh program DIR/NAME (0755); D is set to DIR before BODY.
sub script {
	my ($self, $name, $body) = @_;
	return $self->write_file($name,
	    "#!/bin/sh\nD='$self->{dir}'\n$body", 0755);
}

# DIR/NAME, a symlink to sleep(1): "$D/NAME 1000" is a sleep whose command
# line names this test.
sub sleeper {
	my ($self, $name) = @_;
	my $p = $self->path($name);
	my ($sleep) = grep { -x } qw(/usr/bin/sleep /bin/sleep);
	symlink($sleep, $p) or croak "symlink $p: $!" unless -l $p;
	return $p;
}

# A file of N random bytes (head -c N /dev/urandom) and its SHA-256.
sub random_file {
	my ($self, $name, $n) = @_;
	my $p = $self->path($name);
	system('sh', '-c', 'head -c "$1" /dev/urandom > "$2"', 'sh', $n, $p) == 0
	    or croak "head -c $n /dev/urandom failed";
	-s $p == $n or croak "$p: short";
	return ($p, sha256_file($p));
}

# Lines of DIR/NAME (undef if there is no such file).
sub file_lines {
	my ($self, $name) = @_;
	my $s = slurp($self->path($name));
	return () unless defined $s && length $s;
	$s =~ s/\n\z//;
	return split /\n/, $s, -1;
}

# Wait (bounded) until DIR/NAME holds at least N (default 1) complete
# lines; returns whether it does.  (A file a shell appends to exists
# before its line is written.)
sub wait_lines {
	my ($self, $name, $timeout, $n) = @_;
	$n //= 1;
	return wait_for(sub {
		my $s = slurp($self->path($name));
		return defined $s && ($s =~ tr/\n//) >= $n;
	}, $timeout);
}

sub read_pidfile {
	my ($self, $name) = @_;
	my $s = slurp($self->path($name));
	return undef unless defined $s && $s =~ /(\d+)/;
	return $1 + 0;
}

# Wait (bounded) for a pid file a test program writes, return the pid.
sub wait_pidfile {
	my ($self, $name, $timeout) = @_;
	wait_for(sub { defined $self->read_pidfile($name) }, $timeout);
	return $self->read_pidfile($name);
}

# --- the shutdown command's records

sub rec_files {
	my ($self) = @_;
	opendir(my $d, "$self->{dir}/rec") or return ();
	my @f = sort(grep { !/^\./ && $_ ne 'count' } readdir $d);
	return @f;	# a count in scalar context
}

# Wait for a record and return it parsed (undef on timeout).  With several
# records the first by name is returned; tests check rec_files for that.
sub wait_rec {
	my ($self, $timeout) = @_;
	wait_for(sub { $self->rec_files }, $timeout) or return undef;
	my ($f) = $self->rec_files;
	return read_env_file("$self->{dir}/rec/$f");
}

sub read_rec {
	my ($self, $name) = @_;
	($name) = $self->rec_files unless defined $name;
	return undef unless defined $name;
	return read_env_file("$self->{dir}/rec/$name");
}

# How many times the shutdown command ran.
sub rec_count {
	my ($self) = @_;
	my $s = slurp("$self->{dir}/rec/count");
	return 0 unless defined $s;
	return scalar(() = $s =~ /\n/g);
}

# --- the log

# Complete lines of the log file.
sub log_lines {
	my ($self) = @_;
	my $s = slurp("$self->{dir}/log");
	return () unless defined $s;
	$s =~ s/[^\n]*\z//;	# an unfinished last line is not there yet
	return split /\n/, $s;
}

# The request lines of the log (with a target and a status), parsed.
sub log_records {
	my ($self) = @_;
	return grep { $_ && defined $_->{target} && defined $_->{status} }
	    map { parse_log_line($_) } $self->log_lines;
}

# Wait for N (default 1) request lines; return the first, parsed, or undef.
sub wait_log {
	my ($self, $timeout, $n) = @_;
	$n //= 1;
	wait_for(sub { $self->log_records >= $n }, $timeout) or return undef;
	return ($self->log_records)[0];
}

# --- processes

# Processes whose command line names this test's directory (or MARKER).
sub procs {
	my ($self, $marker) = @_;
	return procs_with_marker($marker // $self->{dir});
}

# Wait until no process of this test is left, except those whose command
# line matches EXCEPT (a regexp).  Returns true when quiet.
sub wait_quiet {
	my ($self, $timeout, $except) = @_;
	return wait_for(sub {
		my @p = grep {
			!defined $except || (proc_cmdline($_) // '') !~ $except
		} $self->procs;
		return !@p;
	}, $timeout);
}

# Describe the processes of this test (for diagnostics).
sub ps {
	my ($self) = @_;
	return join '', map { "  $_: " . (proc_cmdline($_) // '?') . "\n" }
	    $self->procs;
}

# Start cgiwrap; see Harness::Run.
sub run {
	my ($self, %o) = @_;
	my $r = Harness::Run->start($self, %o);
	push @{ $self->{runs} }, $r;
	return $r;
}

# A program that writes OUTPUT (printf format text) and then waits as
# "nap" without writing more; started, and waited for until it waits.
# Returns (run, child pid) or nothing (a failed check, named WHAT, says
# why).
sub written_then_waits {
	my ($self, $mode, $output, $what) = @_;
	$self->sleeper('nap');
	my $prog = $self->script('half.sh', <<"SH");
echo \$\$ > "\$D/child.pid"
printf '$output'
echo > "\$D/wrote"
exec "\$D/nap" 1000
SH
	my $r = $self->run(mode => $mode, argv => [$prog]);
	my $cpid = $self->wait_pidfile('child.pid', T(5));
	Test::More::ok($cpid, 'child started') or return;
	Test::More::ok(wait_for(sub { -e $self->path('wrote')
	    && $self->procs($self->path('nap')) }, T(5)), $what) or return;
	return ($r, $cpid);
}

# A program that sends its whole response ("complete"), closes its
# stdout and works on until DIR/go appears (10 s at most), then writes
# DIR/finished and exits with EXIT; started, and read until the server saw
# the end of the response (the check WHAT) and the whole response.
# Returns (run, child pid) or nothing (a failed check says why).
sub closed_then_works {
	my ($self, $mode, $exit, $what) = @_;
	my $prog = $self->script('early.sh', <<"SH");
echo \$\$ > "\$D/child.pid"
printf 'Content-Type: text/plain\\r\\n\\r\\ncomplete\\n'
exec >&-
n=0
while [ ! -e "\$D/go" ] && [ \$n -lt 1000 ]; do sleep 0.01; n=\$((n+1)); done
echo finished > "\$D/finished"
exit $exit
SH
	my $r = $self->run(mode => $mode, argv => [$prog]);
	Test::More::ok($r->read_until(sub { $r->stdout_eof }, T(5)), $what)
	    or return;
	Test::More::is($r->stdout, "Content-Type: text/plain\r\n\r\ncomplete\n",
	    'the whole response arrived');
	return ($r, $self->read_pidfile('child.pid'));
}

# A POST of 8 MiB whose program reads READ bytes of it (into "got"), then
# waits as "nap" without reading more: the server is left writing the body.
# Returns (run, child pid, body size) once the child has read and waits,
# or nothing (a failed check says why).
sub stalled_upload {
	my ($self, $mode, $read) = @_;
	$self->sleeper('nap');
	my $prog = $self->script('upload.sh', <<"SH");
echo \$\$ > "\$D/child.pid"
head -c $read > "\$D/got"
echo read > "\$D/read"
exec "\$D/nap" 1000
SH
	my ($size, $chunk, $sent) = (8 << 20, 'u' x 65536, 0);
	my $r = $self->run(mode => $mode, argv => [$prog],
	    env => { REQUEST_METHOD => 'POST', CONTENT_LENGTH => $size,
	    CONTENT_TYPE => 'application/octet-stream' },
	    body => sub {
		return undef if $sent >= $size;
		$sent += length $chunk;
		return $chunk;
	    });
	my $cpid = $self->wait_pidfile('child.pid', T(5));
	Test::More::ok($cpid, 'child started') or return;
	Test::More::ok(wait_for(sub { $r->pump(0.01) ;
	    -e $self->path('read') && $self->procs($self->path('nap')) },
	    T(5)), 'child read part of the body and waits') or return;
	return ($r, $cpid, $size);
}

sub cleanup {
	my ($self) = @_;
	return if $self->{cleaned}++;
	for my $r (@{ $self->{runs} }) { $r->reap_hard if $r }
	# Everything that names this test: fronts, supervisors, children,
	# leftovers.  Repeat: a dying supervisor may still start something.
	for (1 .. 50) {
		my @p = $self->procs;
		last unless @p;
		kill 'KILL', @p;
		sleep $Poll::POLL;
	}
	my $ok = eval { Test::More->builder->is_passing } // 1;
	if (!$ok || $ENV{HARNESS_KEEP}) {
		Test::More::diag("test directory kept: $self->{dir}");
	} else {
		remove_tree($self->{dir});
	}
}

# The end of a request as the tests check it every time: the shutdown
# command ran (its record is returned), the log line was written, no
# process of the test is left (but those matching EXCEPT), the command ran
# exactly once and there is exactly one log line.  Returns (rec, log).
sub outcome {
	my ($self, $timeout, %o) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $rec = $self->wait_rec($timeout);
	Test::More::ok($rec, 'shutdown command ran')
	    or Test::More::diag("processes:\n" . $self->ps);
	my $log = $self->wait_log($rec ? $timeout : 0.5);
	Test::More::ok($log, 'log line written')
	    or Test::More::diag("log:\n" . join("\n", $self->log_lines));
	Test::More::ok($self->wait_quiet($rec ? $timeout : 0.5, $o{except}),
	    'no process of the request left')
	    or Test::More::diag("processes:\n" . $self->ps);
	Test::More::is($self->rec_count, $rec ? 1 : 0,
	    'shutdown command ran exactly once');
	Test::More::is(scalar(my @l = $self->log_records), $log ? 1 : 0,
	    'exactly one log line')
	    or Test::More::diag("log:\n" . join("\n", $self->log_lines));
	return ($rec || {}, $log || {});
}

# The end of a request (outcome() within WITHIN seconds, default 5,
# scaled by T; EXCEPT as there) and the fields its shutdown record (REC,
# without the CGIWRAP_ prefix) and its log line (LOG) must have, as
# check_fields compares them; either may be undef.  Returns (rec, log).
sub ended {
	my ($self, $rec, $log, %o) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($r, $l) = $self->outcome(T($o{within} // 5), except => $o{except});
	check_fields($r, $rec, 'CGIWRAP_') if $rec;
	check_fields($l, $log) if $log;
	return ($r, $l);
}

# The end of a request aborted before any header reached the server (the
# client left, or the front died) whose child CPID SIGTERM stopped:
# ended() with the fields of the record and the log line that say so,
# and REC and LOG (more fields, or other values) on top.  Returns (rec,
# log).
sub aborted_by_term {
	my ($self, $cpid, $rec, $log) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return $self->ended({ STATUS => 1, STATUS_NAME => 'ABORTED',
	    EXIT_CODE => 'killed', EXIT_STATUS => 'TERM', PID => $cpid,
	    HTTP_STATUS => '', %{ $rec // {} } },
	    { status => 'ABORTED', exit => 'killed:TERM', %{ $log // {} } });
}

sub DESTROY { $_[0]->cleanup }

# ===========================================================================
package Harness::Run;

# One cgiwrap process started by the harness, with the server side of its
# descriptors.  I/O is driven by pump(): stdout and stderr are read into
# buffers and the request body is written, without blocking, whenever the
# harness waits for anything.

use strict;
use warnings;
use Carp qw(croak);
use Errno qw(EAGAIN EINTR EPIPE ECONNRESET EWOULDBLOCK);
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
use POSIX qw(:sys_wait_h _exit dup2);
use Socket qw(AF_UNIX SOCK_STREAM PF_UNSPEC SHUT_WR);
use Time::HiRes qw(time sleep);

# The CGI environment a server would give (PATH and so on), without the
# test runner's own variables except the sanitizers'.
sub default_env {
	my ($t) = @_;
	my %e = (
		GATEWAY_INTERFACE => 'CGI/1.1',
		SERVER_PROTOCOL   => 'HTTP/1.1',
		SERVER_SOFTWARE   => 'cgiwrap-test-harness',
		SERVER_NAME       => 'localhost',
		SERVER_PORT       => '80',
		REQUEST_METHOD    => 'GET',
		REQUEST_URI       => '/cgi-bin/test',
		SCRIPT_NAME       => '/cgi-bin/test',
		QUERY_STRING      => '',
		HTTP_HOST         => 'localhost',
		HTTP_X_HARNESS    => 'x-' . (split m{/}, $t->dir)[-1],
		PATH              => '/usr/local/bin:/usr/bin:/bin',
	);
	for my $k (qw(ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS)) {
		$e{$k} = $ENV{$k} if defined $ENV{$k};
	}
	return %e;
}

# Harness::Run->start($t,
#     mode => 'pipes' | 'socket',
#     argv => [PROGRAM, ARGS...],      # run as cgiwrap -c CONF -- argv
#     cmd  => [...],                   # or the whole command line instead
#     env  => { NAME => VALUE | undef },   # over default_env (undef drops)
#     env_dup => ['NAME=VALUE', ...],  # entries added after those, even
#                                      # for a name already there
#     body => BYTES | sub { next chunk or undef } | undef,
#     body_file => PATH,               # the body read from a file
# )
sub start {
	my ($class, $t, %o) = @_;
	my $mode = $o{mode} // 'pipes';
	croak "mode must be pipes or socket" unless $mode =~ /^(pipes|socket)\z/;
	my @cmd = $o{cmd} ? @{ $o{cmd} }
	    : ($Harness::CGIWRAP, '-c', $t->conf, '--', @{ $o{argv} || croak 'argv' });
	my %env = (default_env($t), %{ $o{env} || {} });
	delete $env{$_} for grep { !defined $env{$_} } keys %env;

	my $self = bless {
		mode => $mode, cmd => \@cmd, out => '', err => '',
		body_written => 0, dir => $t->dir,
	}, $class;

	# The body source: a string, a generator or a file.
	if (defined $o{body_file}) {
		open(my $bf, '<:raw', $o{body_file}) or croak "$o{body_file}: $!";
		$self->{src} = sub {
			my $n = sysread($bf, my $buf, 1 << 20);
			return $n ? $buf : undef;
		};
	} elsif (ref $o{body} eq 'CODE') {
		$self->{src} = $o{body};
	} elsif (defined $o{body} && length $o{body}) {
		my $b = $o{body};
		$self->{src} = sub { my $x = $b; undef $b; return $x };
	}
	$self->{pending} = '';

	my ($in_r, $in_w, $out_r, $out_w, $err_r, $err_w, $ours, $theirs);
	pipe($err_r, $err_w) or croak "pipe: $!";
	if ($mode eq 'pipes') {
		pipe($in_r, $in_w) or croak "pipe: $!";
		pipe($out_r, $out_w) or croak "pipe: $!";
		# What the server's descriptors look like in /proc/PID/fd.
		$self->{server_fds} = [ map { 'pipe:[' . (stat $_)[1] . ']' }
		    $in_r, $out_r, $err_r ];
	} else {
		socketpair($ours, $theirs, AF_UNIX, SOCK_STREAM, PF_UNSPEC)
		    or croak "socketpair: $!";
		$self->{server_fds} = [ (map { 'socket:[' . (stat $_)[1] . ']' }
		    $ours, $theirs), 'pipe:[' . (stat $err_r)[1] . ']' ];
		($in_r, $out_w, $in_w, $out_r) = ($theirs, $theirs, $ours, $ours);
	}

	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		# The web server's child: default signal dispositions, the
		# three descriptors, a clean CGI environment.
		$SIG{$_} = 'DEFAULT' for qw(PIPE TERM INT HUP QUIT USR1 USR2
		    ALRM CHLD TSTP TTIN TTOU XCPU XFSZ);
		POSIX::sigprocmask(POSIX::SIG_SETMASK(), POSIX::SigSet->new);
		chdir $t->dir;
		dup2(fileno($in_r), 0) // _exit(125);
		dup2(fileno($out_w), 1) // _exit(125);
		dup2(fileno($err_w), 2) // _exit(125);
		%ENV = %env;
		if ($o{env_dup}) {
			# %ENV holds a name once: execve(2) itself, as a
			# server that passes a name twice (nginx) would.
			require 'syscall.ph';
			my @envp = ((map { "$_=$env{$_}" } sort keys %env),
			    @{ $o{env_dup} });
			my ($argv, $envp) = (pack('p*', @cmd, undef),
			    pack('p*', @envp, undef));
			syscall(SYS_execve(), $cmd[0], $argv, $envp);
		} else {
			exec { $cmd[0] } @cmd;
		}
		print STDERR "harness: exec $cmd[0]: $!\n";
		_exit(127);
	}
	$self->{pid} = $pid;
	$self->{t0} = time;
	close $err_w;
	if ($mode eq 'pipes') {
		close $in_r;
		close $out_w;
	} else {
		close $theirs;
	}
	$self->{in} = $in_w;
	$self->{outfh} = $out_r;
	$self->{errfh} = $err_r;
	for my $fh ($in_w, $out_r, $err_r) {
		my $fl = fcntl($fh, F_GETFL, 0);
		fcntl($fh, F_SETFL, $fl | O_NONBLOCK);
	}
	$self->end_body unless $self->{src};
	return $self;
}

sub pid { $_[0]{pid} }
sub mode { $_[0]{mode} }
sub stdout { $_[0]{out} }
sub stderr { $_[0]{err} }
sub stdout_eof { $_[0]{out_eof} }
sub stdout_error { $_[0]{out_error} }	# e.g. ECONNRESET seen at the end
sub body_written { $_[0]{body_written} }
sub body_error { $_[0]{body_error} }	# errno text of a failed body write
sub body_done { $_[0]{body_done} }
sub server_fds { @{ $_[0]{server_fds} } }
sub started { $_[0]{t0} }
sub response { Harness::split_response($_[0]{out}) }

# The request body is over: close stdin (pipes) or shut down the sending
# half of the socket (socket), as mod_cgi and mod_cgid do.
sub end_body {
	my ($self) = @_;
	return if $self->{body_done}++;
	$self->{src} = undef;
	$self->{pending} = '';
	return unless $self->{in};
	if ($self->{mode} eq 'pipes') {
		close $self->{in};
	} elsif ($self->{out_eof}) {
		close $self->{in};	# stdout is over too: all done
		$self->{outfh} = undef;
	} else {
		shutdown($self->{in}, SHUT_WR);
	}
	$self->{in} = undef;
}

sub want_write {
	my ($self) = @_;
	return $self->{in} && !$self->{body_done};
}

# One round of I/O: wait up to TIMEOUT seconds for something to read or
# room to write, then do it.  Returns true if anything happened.
sub pump {
	my ($self, $timeout) = @_;
	my ($rin, $win) = ('', '');
	my $any;
	if ($self->{outfh} && !$self->{out_eof}) {
		vec($rin, fileno($self->{outfh}), 1) = 1; $any = 1;
	}
	if ($self->{errfh} && !$self->{err_eof}) {
		vec($rin, fileno($self->{errfh}), 1) = 1; $any = 1;
	}
	if ($self->want_write) {
		vec($win, fileno($self->{in}), 1) = 1; $any = 1;
	}
	unless ($any) {
		sleep $timeout if $timeout;
		return 0;
	}
	my $n = select(my $rout = $rin, my $wout = $win, undef, $timeout);
	if (!defined $n || $n < 0) {
		return 0 if $!{EINTR};
		croak "select: $!";
	}
	return 0 if $n == 0;
	my $did = 0;
	if ($self->{outfh} && !$self->{out_eof}
	    && vec($rout, fileno($self->{outfh}), 1)) {
		$did += $self->read_into('out');
	}
	if ($self->{errfh} && !$self->{err_eof}
	    && vec($rout, fileno($self->{errfh}), 1)) {
		$did += $self->read_into('err');
	}
	if ($self->want_write && vec($wout, fileno($self->{in}), 1)) {
		$did += $self->write_body;
	}
	return $did;
}

sub read_into {
	my ($self, $which) = @_;
	my $fh = $self->{"${which}fh"};
	my $n = sysread($fh, $self->{$which}, 1 << 20, length $self->{$which});
	if (!defined $n) {
		return 0 if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
		$self->{"${which}_error"} = "$!";
		$n = 0;
	}
	return 1 if $n > 0;
	$self->{"${which}_eof"} = 1;
	# The socket is also stdin: keep it while the body goes on.
	if ($which eq 'err' || $self->{mode} eq 'pipes' || $self->{body_done}) {
		close $fh;
		$self->{"${which}fh"} = undef;
		$self->{in} = undef if $which eq 'out' && $self->{mode} eq 'socket';
	}
	return 1;
}

sub write_body {
	my ($self) = @_;
	if ($self->{pending} eq '') {
		my $c = $self->{src} ? $self->{src}->() : undef;
		if (!defined $c) {
			$self->end_body;
			return 1;
		}
		$self->{pending} = $c;
		return 1 if $c eq '';
	}
	my $n = syswrite($self->{in}, $self->{pending});
	if (!defined $n) {
		return 0 if $!{EAGAIN} || $!{EWOULDBLOCK} || $!{EINTR};
		# The front closed its stdin (EPIPE) or went away: stop.
		$self->{body_error} = "$!";
		$self->{body_done} = 1;
		$self->{src} = undef;
		$self->{pending} = '';
		if ($self->{mode} eq 'pipes') {
			close $self->{in};
		} elsif ($self->{out_eof} && $self->{outfh}) {
			close $self->{outfh};
			$self->{outfh} = undef;
		}
		$self->{in} = undef;
		return 1;
	}
	substr($self->{pending}, 0, $n) = '';
	$self->{body_written} += $n;
	return 1;
}

# Pump until COND holds on stdout, stdout ends, or TIMEOUT passes.  COND
# is a regexp, a byte count, or a code ref given the stdout buffer.
# Returns whether COND holds.
sub read_until {
	my ($self, $cond, $timeout) = @_;
	my $test = ref $cond eq 'CODE' ? $cond
	    : ref $cond eq 'Regexp' ? sub { $_[0] =~ $cond }
	    : sub { length($_[0]) >= $cond };
	my $deadline = time + Poll::cap_timeout($timeout);
	while (1) {
		return 1 if $test->($self->{out});
		return 0 if $self->{out_eof};
		return Poll::timed_out(0) if time >= $deadline;
		$self->pump(_left($deadline));
	}
}

# Pump until both stdout and stderr reached EOF; returns whether they did.
sub read_all {
	my ($self, $timeout) = @_;
	my $deadline = time + Poll::cap_timeout($timeout);
	while (!($self->{out_eof} && $self->{err_eof})) {
		return Poll::timed_out(0) if time >= $deadline;
		$self->pump(_left($deadline));
	}
	return 1;
}

sub _left {
	my ($deadline) = @_;
	my $l = $deadline - time;
	return $l < 0 ? 0 : $l > 0.05 ? 0.05 : $l;
}

# Has the front exited (and been reaped)?  Never blocks.
sub reaped {
	my ($self) = @_;
	return 1 if defined $self->{wstatus};
	my $r = waitpid($self->{pid}, WNOHANG);
	if ($r == $self->{pid}) {
		$self->{wstatus} = $?;
		$self->{t_exit} = time;
		return 1;
	}
	return 0;
}

# Wait (bounded) for the front to exit, pumping I/O meanwhile so that it
# is never blocked on us.  Returns exit_value, or undef on timeout.
sub wait_exit {
	my ($self, $timeout) = @_;
	my $deadline = time + Poll::cap_timeout($timeout);
	while (!$self->reaped) {
		return Poll::timed_out(undef) if time >= $deadline;
		my $l = $deadline - time;
		$self->pump($l < 0 ? 0 : $l > $Poll::POLL ? $Poll::POLL : $l);
	}
	return $self->exit_value;
}

# Read everything and wait for the exit, all within TIMEOUT; returns
# exit_value or undef.
sub finish {
	my ($self, $timeout) = @_;
	my $deadline = time + $timeout;
	$self->read_all($timeout);
	return $self->wait_exit(_max0($deadline - time));
}

sub _max0 { $_[0] < 0 ? 0 : $_[0] }

# The front's exit as a shell shows it: the code, or 128+N for signal N.
sub exit_value {
	my ($self) = @_;
	my $w = $self->{wstatus};
	return undef unless defined $w;
	return WIFSIGNALED($w) ? 128 + WTERMSIG($w) : WEXITSTATUS($w);
}

sub exit_signal {
	my ($self) = @_;
	my $w = $self->{wstatus};
	return undef unless defined $w && WIFSIGNALED($w);
	return WTERMSIG($w);
}

# Seconds from start (or hangup) to the front's exit.
sub exit_time { $_[0]{t_exit} }

# The client hangs up: the server closes its ends of stdout and stdin
# (the socket, in socket mode).  stderr stays open and keeps being read.
sub hangup {
	my ($self) = @_;
	$self->{t_hangup} = time;
	$self->{body_done} = 1;
	$self->{src} = undef;
	$self->{pending} = '';
	for my $k (qw(in outfh)) {
		close $self->{$k} if $self->{$k};
		$self->{$k} = undef;
	}
	$self->{out_eof} = 1;
	return $self->{t_hangup};
}

sub hangup_time { $_[0]{t_hangup} }

sub kill_front {
	my ($self, $sig) = @_;
	return 0 if $self->reaped;
	$self->{t_kill} = time;
	return kill $sig, $self->{pid};
}

# Last resort at cleanup: the front must not outlive the test.
sub reap_hard {
	my ($self) = @_;
	return if $self->reaped;
	kill 'KILL', $self->{pid};
	waitpid($self->{pid}, 0);
	$self->{wstatus} //= $?;
}

sub DESTROY {
	my ($self) = @_;
	local ($?, $!);
	$self->reap_hard if $self->{pid};
}

1;
