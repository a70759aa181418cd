#!/usr/bin/perl
# Fault matrix (issue 6), last row: 200 concurrent requests through a real
# Apache (event MPM + mod_cgid), a third of them aborted by the client at
# random moments.  The program writes a line every 50 ms for 1.5 s.  The
# clients are forked Perl processes on raw sockets; an aborting one
# closes its socket either a random time after sending the request (the
# program may not even have started: a FIN, which Apache still serves)
# or shortly after a random one of the first body lines (a FIN, or a RST
# by SO_LINGER 0).  Afterwards every request is accounted for: exactly
# one shutdown record per query string (the shutdown command ran once),
# with ABORTED for the aborted ones and NORMAL for the others, one log
# line per request with the same status, every normal client got the
# whole response, and no process of the requests is left.
#
# A client that was not scheduled for a while may find, when it is about
# to close, that most of the response has come already: the program may
# have finished before the close, and NORMAL is then right too.  Such a
# late abort (line 15 or later received, so less than 0.75 s left) is
# accepted with either status; the others leave with at least 0.7 s of
# the program to run (the client watch looks every 250 ms) and must be
# ABORTED.
# SPEC R-STAT-2, R-STAT-4, R-POL-1, R-SHUT-1, R-LOG-1.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use IO::Socket::INET;
use POSIX qw(:sys_wait_h _exit);
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(time sleep);
use Server qw(:all write_file);

my $CGIWRAP = cgiwrap_behind_apache();

my $N = 200;
my $LINES = 30;		# one every 50 ms: 1.5 s
my $t0 = time;

# The shutdown command writes one file per run, named by the child's pid,
# and one line per run in a common file (a short O_APPEND write: lines
# never mix).
my ($t, $conf, $log) = cgiwrap_tree('faults-apache',
    dirs => [qw(cgi-bin prog rec var apache clients)], root => 'prog',
    rec => sub {
	my ($t) = @_;
	return <<"EOF";
#!/bin/sh
echo "\$CGIWRAP_PID" >> "$t/rec/runs"
echo "\$QUERY_STRING \$CGIWRAP_PID \$CGIWRAP_STATUS_NAME" > "$t/rec/.t.\$\$"
mv "$t/rec/.t.\$\$" "$t/rec/\$CGIWRAP_PID"
EOF
    });
write_file("$t/prog/ticker", 0755, <<"EOF");
#!/usr/bin/perl
\$| = 1;
print "Content-Type: text/plain\\r\\n\\r\\n";
for my \$i (0 .. $LINES - 1) {
	print "line \$i\\n";
	select(undef, undef, undef, 0.05);
}
EOF
cgiwrap_shim($CGIWRAP, $conf, $t, 'ticker');

my $srv = apache_started('Apache event + mod_cgid started', mpm => 'event',
    cgi => 'mod_cgid', dir => "$t/apache", conf => <<"EOF" . cgi_bin_alias($t))
# Room for every request at once (these come after the defaults).
ServerLimit 8
ThreadsPerChild 32
MaxRequestWorkers 256
ListenBacklog 511
EOF
    or do {
	done_testing;
	exit 1;
};
my $port = $srv->port;

# The plan: every third request aborted, in one of three ways.
my $seed = $ENV{FAULTS_SEED} // time;
srand($seed);
note("FAULTS_SEED=$seed");
my (%abort, %id);
for my $i (0 .. $N - 1) {
	$id{$i} = sprintf('id=%03d-%06d', $i, int(rand(1e6)));
	next if $i % 3;
	my $how = (qw(sent line line-rst))[int(rand(3))];
	# sent: a delay after sending; line: after line K, a short delay.
	$abort{$i} = [$how, sprintf('%.3f', $how eq 'sent' ? rand(0.8)
	    : rand(0.2)), int(rand(9))];
}
note(scalar(keys %abort) . ' of ' . $N . ' to abort');

# One client: writes DIR/clients/I with what it saw.
sub client {
	my ($i) = @_;
	my ($how, $delay, $k) = @{ $abort{$i} // [] };
	local $SIG{ALRM} = sub { die "alarm\n" };
	alarm(int(T(30)));
	my $res = eval {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
		    PeerPort => $port, Proto => 'tcp')
		    or return "connect: $!";
		print $s "GET /cgi-bin/ticker.cgi?$id{$i} HTTP/1.0\r\n"
		    . "Host: 127.0.0.1\r\n\r\n" or return "send: $!";
		my $buf = '';
		# Leave now; late if less than 0.75 s of the program was
		# left (what has come so far is read first).
		my $leave = sub {
			$s->blocking(0);
			1 while sysread($s, $buf, 65536, length $buf);
			my $late = $buf =~ /\nline (?:1[5-9]|2\d)\n/;
			setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0))
			    if $how eq 'line-rst';
			close $s;
			return $late ? 'aborted late' : 'aborted';
		};
		if ($how && $how eq 'sent') {
			sleep $delay;
			return $leave->();
		}
		while (1) {
			my $n = sysread($s, $buf, 65536, length $buf);
			return "read: $!" unless defined $n;
			last if $n == 0;
			if ($how && $buf =~ /\nline $k\n/) {
				sleep $delay;
				return $leave->();
			}
		}
		close $s;
		my ($code) = $buf =~ m{\AHTTP/1\.\d (\d+)};
		my ($body) = $buf =~ /\r?\n\r?\n(.*)\z/s;
		my $want = join('', map { "line $_\n" } 0 .. $LINES - 1);
		return 'status ' . ($code // 'none') . ' body '
		    . (defined $body && $body eq $want ? 'complete'
		    : 'wrong: ' . length($body // ''));
	};
	alarm(0);
	$res //= "error: $@";
	chomp $res;
	open(my $fh, '>', "$t/clients/$i.tmp") or _exit(1);
	print $fh "$res\n";
	close $fh;
	rename("$t/clients/$i.tmp", "$t/clients/$i");
}

my %kid;
for my $i (0 .. $N - 1) {
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	if ($pid == 0) {
		$SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE);
		client($i);
		_exit(0);
	}
	$kid{$pid} = $i;
}
my $started = time;
wait_for(sub {
	while ((my $p = waitpid(-1, WNOHANG)) > 0) { delete $kid{$p} }
	return !%kid;
}, T(40));
ok(!%kid, 'every client ended') or kill 'KILL', keys %kid;
1 while waitpid(-1, WNOHANG) > 0;
note(sprintf('clients done in %.1f s', time - $started));

my %seen;
for my $i (0 .. $N - 1) {
	my $r = slurp("$t/clients/$i");
	chomp $r;
	$seen{$i} = $r;
}
my @bad = grep { $abort{$_} ? $seen{$_} !~ /^aborted( late)?\z/
    : $seen{$_} ne 'status 200 body complete' } 0 .. $N - 1;
my @late = grep { $seen{$_} eq 'aborted late' } 0 .. $N - 1;
note(scalar(@late) . ' aborts came late (either status is right)');
is_deeply([map { "$_: $seen{$_}" } @bad], [],
    'every normal client got the whole response, every other left');

# The records: one per request, within a bound.
sub records {
	opendir(my $d, "$t/rec") or return ();
	return grep { /^\d+\z/ } readdir $d;
}
ok(wait_for(sub { records() >= $N }, T(15)),
    "$N shutdown records") or diag(scalar(records()) . ' records');
my (%by_id, %pid_status);
for my $f (records()) {
	my ($qs, $pid, $st) = split ' ', slurp("$t/rec/$f");
	push @{ $by_id{$qs // '?'} }, [$pid, $st];
	$pid_status{$pid} = $st if defined $pid;
}
my (@missing, @dup, @wrong);
for my $i (0 .. $N - 1) {
	my $recs = $by_id{$id{$i}} // [];
	push @missing, $i unless @$recs;
	push @dup, $i if @$recs > 1;
	my $want = $seen{$i} eq 'aborted late' ? qr/^(ABORTED|NORMAL)\z/
	    : $abort{$i} ? qr/^ABORTED\z/ : qr/^NORMAL\z/;
	push @wrong, "$i ($id{$i}, " . join(' ', @{ $abort{$i} // ['normal'] })
	    . "): $_->[1]" for grep { ($_->[1] // '') !~ $want } @$recs;
}
is_deeply(\@missing, [], 'every request has a shutdown record');
is_deeply(\@dup, [], 'no request has two');
is_deeply(\@wrong, [], 'aborted ones ABORTED, the others NORMAL');
my %runs;
$runs{$_}++ for grep { length } split /\n/, slurp("$t/rec/runs");
is_deeply([grep { $runs{$_} != 1 } sort keys %runs], [],
    'the shutdown command ran once per request');
is(scalar(keys %runs), $N, "$N runs in all");

# The log: one line per request, the status of its record.
my %logged;
ok(wait_for(sub {
	%logged = ();
	for (split /\n/, slurp($log)) {
		next unless /(?:^|\s)status=(\S+)/;
		my $st = $1;
		push @{ $logged{$1} }, $st if /(?:^|\s)pid=(\d+)/;
	}
	return keys(%logged) >= $N;
}, T(5)), "$N request lines in the log") or diag(scalar(keys %logged) . ' lines');
my @logbad = map { "$_: record $pid_status{$_}, log "
    . join(',', @{ $logged{$_} // ['none'] }) } grep {
    my $l = $logged{$_} // [];
    @$l != 1 || $l->[0] ne $pid_status{$_} } sort keys %pid_status;
is_deeply(\@logbad, [], 'each request has one log line, with its status');

my $mine = qr/\Q$t\E\/(?:prog|cgi-bin|cgiwrap\.conf|rec\.sh)/;
ok(wait_for(sub { !pids_matching($mine) }, T(5)),
    'no process of the requests left')
    or diag(join "\n", map { "$_: " . (proc_cmdline($_) // '') }
    pids_matching($mine));
ok($srv->stop, 'Apache stopped gracefully') or diag($srv->stop_problem);
if (Test::More->builder->is_passing) {
	note(sprintf('faults-apache.t took %.1f s', time - $t0));
} else {
	diag("FAULTS_SEED=$seed; cgiwrap log: $log; Apache error log: "
	    . $srv->error_log_path);
}
done_testing;
