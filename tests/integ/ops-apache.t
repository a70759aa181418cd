#!/usr/bin/perl
# Issue 13, items 2 and 4 behind a real Apache 2.4 (event MPM +
# mod_cgid): the resource figures of a request in its log line and its
# shutdown command's environment (CPU and peak RSS of the program and of
# an orphan it left, the processes reaped), and the slow-request record
# of a program stuck in a child whose own child sleeps.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use POSIX qw(:sys_wait_h _exit);
use Server qw(:all parse_env write_file);
use Harness qw(T wait_for slurp parse_log_line);

my $CGIWRAP = cgiwrap_behind_apache();

my ($t, $conf, $log) = cgiwrap_tree('ops-apache',
    dirs => [qw(cgi-bin prog rec var apache)], root => 'prog',
    conf => sub {
	my ($t) = @_;
	return "script \"$t/prog/stuck\" { request_slowlog_timeout = 500ms }\n";
    });

# The orphan: 64 MiB resident, 300 ms of user and 150 ms of system time.
write_file("$t/prog/hog.pl", 0644, <<'EOF');
my $x = "a" x (64 << 20);
1 while (times)[0] < 0.3;
open(my $z, "<", "/dev/zero") or die;
sysread($z, my $b, 1 << 20) while (times)[1] < 0.15;
EOF
# The inner shell leaves the hog to the supervisor; the script waits
# until the supervisor reaped it, then burns 300 ms in a child it waits for.
write_file("$t/prog/usage", 0755, <<"EOF");
#!/bin/sh
hog=\$(sh -c 'perl "\$1"/prog/hog.pl >/dev/null 2>&1 & echo \$!' sh '$t')
while kill -0 "\$hog" 2>/dev/null; do sleep 0.05; done
perl -e '1 while (times)[0] < 0.3'
printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'
EOF
write_file("$t/prog/kid", 0755, "#!/bin/sh\nsleep 30 &\nwait\n");
write_file("$t/prog/stuck", 0755, <<"EOF");
#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
'$t/prog/kid'
echo done
EOF
cgiwrap_shim($CGIWRAP, $conf, $t, $_) for qw(usage stuck);

my $srv = apache_started('Apache event + mod_cgid started', mpm => 'event',
    cgi => 'mod_cgid', dir => "$t/apache", conf => cgi_bin_alias($t))
    or do {
	done_testing;
	exit 1;
};
my $url = $srv->url('/cgi-bin');

sub log_lines {
	my $s = slurp($log) // '';
	$s =~ s/[^\n]*\z//;
	return split /\n/, $s;
}

sub record_of {
	my ($name) = @_;
	my ($l) = grep { /target=\S*\/prog\/$name / && /status=/ } log_lines();
	return $l ? parse_log_line($l) : undef;
}

subtest 'the figures of the whole tree' => sub {
	my $r = curl_get("$url/usage.cgi", max_time => T(20));
	is($r->{code}, 200, 'HTTP 200');
	is($r->{body}, "ok\n", 'the body');
	ok(wait_for(sub { record_of('usage') }, T(5)), 'its log line');
	my $l = record_of('usage') // {};
	is($l->{procs}, 2, 'procs: the script and its orphan');
	cmp_ok($l->{cpu_user_ms} // 0, '>=', 550, 'cpu_user_ms: both perls');
	cmp_ok($l->{cpu_sys_ms} // 0, '>=', 130, 'cpu_sys_ms: the orphan\'s');
	cmp_ok($l->{max_rss_kb} // 0, '>=', 64 << 10,
	    'max_rss_kb: the orphan\'s 64 MiB');
	ok(wait_for(sub { -e "$t/rec/" . ($l->{pid} // 'none') }, T(5)),
	    'the shutdown command ran');
	my $env = parse_env(slurp("$t/rec/" . ($l->{pid} // 'none')) // '');
	is($env->{"CGIWRAP_\U$_"}, $l->{$_}, "CGIWRAP_\U$_\E as logged")
	    for qw(cpu_user_ms cpu_sys_ms max_rss_kb procs);
};

subtest 'a slow request: its process tree, once' => sub {
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		my $r = curl_get("$url/stuck.cgi", max_time => T(20));
		_exit($r->{code} eq '200' && $r->{body} eq "done\n" ? 0 : 1);
	}
	my @slow;
	ok(wait_for(sub { @slow = grep { /note="slow request"/ } log_lines() },
	    T(10)), 'the slow record came');
	my $line = $slow[0] // '';
	my %procs;
	while ($line =~ /\sproc\d+="((?:[^"\\]|\\.)*)"/g) {
		my @f = split / /, $1, 7;
		$procs{$f[0]} = { ppid => $f[1], state => $f[2],
		    wchan => $f[3], cmd => $f[6] };
	}
	my $rec = parse_log_line($line);
	like($rec->{target} // '', qr{/prog/stuck\z}, 'its target');
	my ($kid) = grep { $procs{$_}{cmd} =~ m{/prog/kid\z} } keys %procs;
	my ($nap) = grep { $procs{$_}{cmd} eq 'sleep 30' } keys %procs;
	ok($kid && $nap, 'the child and its sleeping child are listed')
	    or diag($line);
	is($procs{$kid // ''}{ppid}, $rec->{pid}, 'the child of the script');
	is($procs{$nap // ''}{ppid}, $kid, 'the sleep is the child\'s');
	like($procs{$nap // ''}{wchan} // '', qr/nanosleep/,
	    'the sleep waits in nanosleep');
	kill 'TERM', $nap if $nap;
	is(waitpid($pid, 0) == $pid ? $? >> 8 : -1, 0,
	    'the client got the whole response');
	ok(wait_for(sub { record_of('stuck') }, T(5)), 'its log line');
	is(scalar(grep { /note="slow request"/ } log_lines()), 1,
	    'one slow record');
};

ok($srv->stop, 'Apache stopped gracefully') or diag($srv->stop_problem);
done_testing;
