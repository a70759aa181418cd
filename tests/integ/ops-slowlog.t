#!/usr/bin/perl
# Integration: request_slowlog_timeout.  Once the request has run that
# long, one log line lists its process tree (pid, parent, state, wait
# channel, age, CPU, command line of each process), once per request:
# a script stuck in sleep, in a pipe read, and in a child whose own
# child sleeps (every descendant listed).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Harness;

Harness::require_binary();

my $HDR = "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n";

sub slow_lines {
	my ($t) = @_;
	return grep { /(?:^|\s)note="slow request"/ } $t->log_lines;
}

# The processes of a slow record: { pid => {ppid state wchan age cpu cmd} }.
sub procs_of {
	my ($line) = @_;
	my %p;
	while ($line =~ /\sproc\d+="((?:[^"\\]|\\.)*)"/g) {
		(my $v = $1) =~ s/\\(.)/$1/gs;
		my ($pid, $ppid, $state, $wchan, $age, $cpu, $cmd) =
		    split / /, $v, 7;
		$p{$pid} = { ppid => $ppid, state => $state, wchan => $wchan,
		    age => $age, cpu => $cpu, cmd => $cmd };
	}
	return \%p;
}

# Run PROG, wait for its slow record and return it parsed with its
# processes; the caller ends the request.
sub slow_record {
	my ($t, $mode, $prog) = @_;
	my $r = $t->run(mode => $mode, argv => [$prog]);
	ok(wait_for(sub { slow_lines($t) }, T(5)), 'a slow record came')
	    or diag(join "\n", $t->log_lines);
	my ($line) = slow_lines($t);
	return ($r, parse_log_line($line // ''), procs_of($line // ''));
}

# The one process whose command line matches RE.
sub find_proc {
	my ($procs, $re) = @_;
	my @p = grep { $procs->{$_}{cmd} =~ $re } keys %$procs;
	return @p == 1 ? $p[0] : undef;
}

both_modes 'stuck in sleep' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { request_slowlog_timeout => '300ms' });
	$t->sleeper('nap');
	my $prog = $t->script('sleepy.sh', $HDR . "\"\$D/nap\" 30\n");
	my ($r, $rec, $procs) = slow_record($t, $mode, $prog);
	like($rec->{target} // '', qr/sleepy\.sh\z/, 'target');
	cmp_ok($rec->{slow_ms} // 0, '>=', 300, 'slow_ms: after the timeout');
	my $nap = find_proc($procs, qr{/nap 30\z});
	ok($nap, 'the sleep is listed with its command line')
	    or diag($rec->{_line});
	my $p = $procs->{$nap // ''} // {};
	is($p->{ppid}, $rec->{pid}, 'its parent is the script');
	is($p->{state}, 'S', 'sleeping');
	like($p->{wchan} // '', qr/nanosleep/, 'waits in nanosleep');
	like($p->{age} // '', qr/^\d+$/, 'its age in ms');
	like($p->{cpu} // '', qr/^\d+$/, 'its CPU time in ms');
	ok($procs->{$rec->{pid} // ''}, 'the script itself is listed');
	kill 'TERM', $nap if $nap;
	$r->finish(T(5));
	$t->ended({ STATUS_NAME => 'NORMAL' }, { status => 'NORMAL' });
	is(scalar(my @l = slow_lines($t)), 1, 'one slow record');
};

both_modes 'stuck in a pipe read' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { request_slowlog_timeout => '300ms' });
	# It holds the pipe's write end itself: no byte ever comes.
	my $prog = $t->write_file('piped.pl', <<'PL', 0755);
#!/usr/bin/perl
$| = 1;
print "Content-Type: text/plain\r\n\r\n";
pipe(my $r, my $w) or die;
sysread($r, my $b, 1);
PL
	my ($r, $rec, $procs) = slow_record($t, $mode, $prog);
	my $p = $procs->{$rec->{pid} // ''} // {};
	like($p->{cmd} // '', qr/piped\.pl/, 'the script is listed')
	    or diag($rec->{_line});
	is($p->{state}, 'S', 'sleeping');
	like($p->{wchan} // '', qr/pipe/, 'waits in a pipe read');
	kill 'TERM', $rec->{pid} if $rec->{pid};
	$r->finish(T(5));
	$t->ended({ EXIT_STATUS => 'TERM' }, { exit => 'killed:TERM' });
	is(scalar(my @l = slow_lines($t)), 1, 'one slow record');
};

both_modes 'stuck in a child: its descendants are listed' => sub {
	my ($mode) = @_;
	# Per script: the global setting is off.
	my $t = Harness->new(extra => <<'CONF');
script "*/parent.sh" { request_slowlog_timeout = 300ms }
CONF
	$t->sleeper('nap');
	$t->script('kid.sh', "\"\$D/nap\" 30 &\nwait\n");
	my $prog = $t->script('parent.sh', $HDR . "sh \"\$D/kid.sh\"\n");
	my ($r, $rec, $procs) = slow_record($t, $mode, $prog);
	my $kid = find_proc($procs, qr{kid\.sh\z});
	my $nap = find_proc($procs, qr{/nap 30\z});
	ok($kid && $nap, 'the child and its child are listed')
	    or diag($rec->{_line});
	is($procs->{$kid // ''}{ppid}, $rec->{pid}, 'the child\'s parent');
	is($procs->{$nap // ''}{ppid}, $kid, 'the grandchild\'s parent');
	like($procs->{$kid // ''}{wchan} // '', qr/wait|sigsuspend/,
	    'the child waits for its own (dash: in sigsuspend)');
	kill 'TERM', $nap if $nap;
	$r->finish(T(5));
	$t->ended({ STATUS_NAME => 'NORMAL' }, { status => 'NORMAL' });
	is(scalar(my @l = slow_lines($t)), 1, 'one slow record');
};

both_modes 'a quick request, or none configured: no record' => sub {
	my ($mode) = @_;
	my $t = Harness->new(conf => { request_slowlog_timeout => '10s' });
	my $prog = $t->script('quick.sh', $HDR . "echo ok\n");
	my $r = $t->run(mode => $mode, argv => [$prog]);
	is($r->finish(T(5)), 0, 'front exits 0');
	$t->ended({ STATUS_NAME => 'NORMAL' }, { status => 'NORMAL' });
	is(scalar(my @l = slow_lines($t)), 0, 'no slow record');
};

done_testing;
