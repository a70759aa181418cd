#!/usr/bin/perl
# make bench: every figure measured side by side in this one run
# (interleaved repetitions, medians), printed with its target.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(abs_path);
use List::Util qw(shuffle);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep clock_gettime CLOCK_MONOTONIC);
use Server qw(:all);

my $top = abs_path("$FindBin::Bin/../..");
my $cgiwrap = $ENV{CGIWRAP} // "$top/cgiwrap";
my $quick = $ENV{BENCH_QUICK};		# fewer repetitions, for a smoke run
# B8's rounds: more of them weigh a small change (CGIWRAP_VS) finer.
my $rounds = $ENV{BENCH_ROUNDS} || ($quick ? 60 : 300);
my $vs = $ENV{CGIWRAP_VS};		# another build, beside cgiwrap in B8
my $dir = make_tempdir('bench');
my @rows;
my $CGIT = '/usr/lib/cgit/cgit.cgi';

sub median { my @v = sort { $a <=> $b } @_; return $v[$#v / 2] }
sub pct { my ($p, @v) = @_; @v = sort { $a <=> $b } @v;
	return $v[int($p / 100 * $#v + 0.5)] }
sub row { push @rows, [@_]; printf STDERR "  %-3s %s\n", $_[0], $_[2] }

# The bench's programs; floor twice, linked as make links cgiwrap by
# default (dynamically) and as make STATIC=-static does, FastCGI's floor
# (fcgi-floor.c), and cgiwrap itself statically linked (built from this
# tree into $dir/static).
sub build {
	for my $c (qw(hello produce waitsig floor)) {
		system('cc', '-O2', '-o', "$dir/$c", "$FindBin::Bin/$c.c") == 0
		    or die "cc $c failed\n";
	}
	system('cc', '-O2', '-static', '-o', "$dir/floor-static",
	    "$FindBin::Bin/floor.c") == 0 or die "cc floor -static failed\n";
	system('cc', '-O2', '-D_GNU_SOURCE', '-o', "$dir/fcgi-floor",
	    "$FindBin::Bin/fcgi-floor.c", '-lfcgi') == 0
	    or die "cc fcgi-floor failed\n";
	system("make -s -C '$top' O='$dir/static' STATIC=-static " .
	    "'$dir/static/cgiwrap' >'$dir/static.log' 2>&1") == 0
	    or die "make STATIC=-static failed: see $dir/static.log\n";
	chmod 0755, $dir;
}

# A configuration checked and cached with cgiwrap -t, as the README has
# an administrator do, by the binary that is to read it (BIN, else the
# one measured): a cache is its writer's alone.
sub config {
	my ($name, $text, $bin) = @_;
	my $path = "$dir/$name.conf";
	open(my $fh, '>', $path) or die "$path: $!";
	# CGIWRAP_CONF_EXTRA: lines for every configuration, as
	# tests/bench-fcgi.sh takes them (client_watch = 0, say).
	print $fh "log = \"$dir/log\"\n$text",
	    $ENV{CGIWRAP_CONF_EXTRA} ? "$ENV{CGIWRAP_CONF_EXTRA}\n" : '';
	close $fh or die "$path: $!";
	chmod 0644, $path;
	$bin //= $cgiwrap;
	`'$bin' -t -c '$path'` eq "syntax ok\n" or die "$bin -t -c $path\n";
	return $path;
}

# Run argv with stdin from a file (or /dev/null) and stdout to /dev/null;
# returns the wall time in seconds.  A run that fails is no time.
sub timed {
	my ($in, @argv) = @_;
	my $t = time;
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		open(STDIN, '<', $in // '/dev/null') or die;
		open(STDOUT, '>', '/dev/null') or die;
		exec(@argv) or POSIX::_exit(127);
	}
	waitpid($pid, 0);
	$t = time - $t;
	$? == 0 or die "@argv: exit status $?\n";
	return $t;
}

sub timed_pipe {
	my ($cmd) = @_;
	my $t = time;
	system('sh', '-c', $cmd) == 0 or die "failed: $cmd\n";
	return time - $t;
}

# B2: 1 GiB of child output, through cgiwrap and straight into the pipe.
sub b2 {
	my $conf = config('b2', '');
	my $prod = "$dir/produce 1073741824";
	my (@direct, @wrapped);
	for (1 .. ($quick ? 1 : 3)) {
		push @direct, timed_pipe("$prod </dev/null | cat >/dev/null");
		push @wrapped, timed_pipe("$cgiwrap -c $conf -- $prod " .
		    "</dev/null | cat >/dev/null");
	}
	my $r = median(@direct) / median(@wrapped);
	row('B2', 'throughput of 1 GiB output, cgiwrap / direct',
	    sprintf('%.2f (%.2f vs %.2f GiB/s)', $r, 1 / median(@wrapped),
	    1 / median(@direct)), '>= 0.90', $r >= 0.90);
}

# Start cgiwrap with stdout a pipe we hold; returns (pid, read end).
sub start_cgi {
	my ($env, @argv) = @_;
	pipe(my $r, my $w) or die;
	my $pid = fork // die;
	if (!$pid) {
		close $r;
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>&', $w) or die;
		%ENV = (%ENV, %$env);
		exec($cgiwrap, @argv) or POSIX::_exit(127);
	}
	close $w;
	return ($pid, $r);
}

sub stamp_of {
	my ($f) = @_;
	wait_for_data($f, T(10)) or return undef;
	open(my $fh, '<', $f) or return undef;
	my $v = <$fh>;
	return $v + 0;
}

# B3: hangup of the server side -> signal delivered to a silent child.
sub b3 {
	my $conf = config('b3', "kill_grace = 1s\n");
	my @d;
	for my $i (1 .. ($quick ? 20 : 200)) {
		my $f = "$dir/b3.$i";
		my ($pid, $r) = start_cgi({}, '-c', $conf, '--',
		    "$dir/waitsig", $f, 'header');
		my $hdr;
		sysread($r, $hdr, 100);
		wait_for_data("$f.start", T(10));
		my $t0 = clock_gettime(CLOCK_MONOTONIC);
		close $r;
		my $t1 = stamp_of($f);
		waitpid($pid, 0);
		push @d, ($t1 - $t0) * 1000 if defined $t1;
	}
	my ($p50, $p99) = (pct(50, @d), pct(99, @d));
	row('B3', 'abort reaction, hangup -> signal (ms)',
	    sprintf('p50 %.2f  p99 %.2f  (n=%d)', $p50, $p99, scalar @d),
	    'p99 <= 5 ms', $p99 <= 5);
}

# B4: signal time minus deadline on a time limit.
sub b4 {
	my $conf = config('b4', "max_execution_time = 100ms\n");
	my @d;
	for my $i (1 .. ($quick ? 10 : 50)) {
		my $f = "$dir/b4.$i";
		my ($pid, $r) = start_cgi({}, '-c', $conf, '--',
		    "$dir/waitsig", $f);
		my $t1 = stamp_of($f);
		my $t0 = stamp_of("$f.start");
		waitpid($pid, 0);
		close $r;
		push @d, ($t1 - $t0 - 0.100) * 1000 if defined $t1 && defined $t0;
	}
	my $p99 = pct(99, @d);
	row('B4', 'timeout precision, signal - deadline (ms)',
	    sprintf('p50 %.2f  p99 %.2f  (n=%d)', pct(50, @d), $p99,
	    scalar @d), 'p99 <= 10 ms', abs($p99) <= 10);
}

# The supervisor: the child of the front.
sub supervisor_of {
	my ($front) = @_;
	for my $st (glob '/proc/[0-9]*/stat') {
		open(my $fh, '<', $st) or next;
		my $l = <$fh> // next;
		my ($pid, $ppid) = $l =~ /^(\d+) .*\) \S+ (\d+)/ or next;
		return $pid if $ppid == $front;
	}
	return undef;
}

sub cpu_ns {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/schedstat") or return 0;
	my ($ns) = split ' ', <$fh>;
	return $ns;
}

sub hwm_kib {
	my ($pid) = @_;
	open(my $fh, '<', "/proc/$pid/status") or return 0;
	while (<$fh>) { return $1 if /^VmHWM:\s+(\d+)/ }
	return 0;
}

# B5: CPU used by cgiwrap's processes while the child sleeps 10 s.
sub b5 {
	my $conf = config('b5', "max_execution_time = 0\n");
	my $secs = $quick ? 2 : 10;
	my ($pid, $r) = start_cgi({}, '-c', $conf, '--', "$dir/produce", 0,
	    $secs * 1000);
	my $hdr;
	sysread($r, $hdr, 100);
	my $sup = wait_for(sub { supervisor_of($pid) }, T(5));
	my $t = time;
	my $c0 = cpu_ns($pid) + cpu_ns($sup);
	sleep($secs - 0.5);
	my $c1 = cpu_ns($pid) + cpu_ns($sup);
	my $el = time - $t;
	waitpid($pid, 0);
	my $ms = ($c1 - $c0) / 1e6 * 10 / $el;
	row('B5', 'CPU of front+supervisor per 10 s of idle child (ms)',
	    sprintf('%.3f', $ms), '<= 10 ms', $ms <= 10);
}

# B6: peak RSS of the front and the supervisor, 1 GiB out, 256 MiB in.
sub b6 {
	my $conf = config('b6', "max_execution_time = 0\n");
	my $body = "$dir/body";
	open(my $fh, '>', $body) or die;
	truncate($fh, 256 << 20) or die;
	close $fh;
	my $pid = fork // die;
	if (!$pid) {
		open(STDIN, '<', $body) or die;
		open(STDOUT, '>', '/dev/null') or die;
		$ENV{CONTENT_LENGTH} = 256 << 20;
		exec($cgiwrap, '-c', $conf, '--', "$dir/produce",
		    1 << 30, 2000) or POSIX::_exit(127);
	}
	my $sup = wait_for(sub { supervisor_of($pid) }, T(5));
	# The child's 2 s sleep after its output: both are done with data.
	my ($f, $s) = (0, 0);
	wait_for(sub {
		my ($a, $b) = (hwm_kib($pid), hwm_kib($sup));
		$f = $a if $a > $f;
		$s = $b if $b > $s;
		return waitpid($pid, WNOHANG) != 0;
	}, T(60));
	my $max = $f > $s ? $f : $s;
	row('B6', 'peak RSS, front / supervisor (KiB)',
	    sprintf('%d / %d', $f, $s), '<= 2048 each', $max <= 2048);
}

# B8: wall time of one request through cgiwrap minus the direct run;
# B10, B11: cgiwrap's added cost as a ratio to the floor's (floor.c:
# exec, fork of a setsid supervisor, posix_spawn of the program, waits),
# both linked dynamically (make's default), then both statically.
sub b8 {
	my $conf = config('b8', '');
	my $sconf = config('b8-static', '', "$dir/static/cgiwrap");
	my %run = (direct => ["$dir/hello"],
	    floor => ["$dir/floor", '--', "$dir/hello"],
	    'floor-static' => ["$dir/floor-static", '--', "$dir/hello"],
	    cgiwrap => [$cgiwrap, '-c', $conf, '--', "$dir/hello"],
	    'cgiwrap-static' => ["$dir/static/cgiwrap", '-c', $sconf, '--',
	    "$dir/hello"]);
	# Another build measured in the same rounds, to weigh a change.
	$run{vs} = [$vs, '-c', config('b8-vs', '', $vs), '--', "$dir/hello"]
	    if defined $vs;
	# One run of each in turn, so that the machine's drift falls on all
	# alike, in a new order every round, so that no way always follows
	# the same one; a way's cost over direct is the median of its
	# rounds' own.
	my (%t, %over);
	for (1 .. $rounds) {
		my %once = map { ($_ => timed(undef, @{ $run{$_} })) }
		    shuffle keys %run;
		push @{ $t{$_} }, $once{$_} for keys %once;
		push @{ $over{$_} }, ($once{$_} - $once{direct}) * 1e6
		    for keys %once;
	}
	my %us = map { ($_ => median(@{ $t{$_} }) * 1e6) } keys %t;
	my %add = map { ($_ => median(@{ $over{$_} })) } keys %over;
	row('B8', 'one request through cgiwrap minus direct (us)',
	    sprintf('%.0f (%.0f vs %.0f)', $add{cgiwrap},
	    $us{cgiwrap}, $us{direct}), 'report', 1);
	row('B8v', 'the same through CGIWRAP_VS (us)', sprintf('%.0f',
	    $add{vs}), 'report', 1) if defined $vs;
	for my $m (['B10', '', 'default, dynamic'],
	    ['B11', '-static', 'make STATIC=-static']) {
		my ($id, $sfx, $how) = @$m;
		my $c = $add{"cgiwrap$sfx"};
		my $f = $add{"floor$sfx"};
		my $r = $f > 0 ? $c / $f : 0;
		row($id, "added cost, cgiwrap / floor ($how), " .
		    'minus hello alone (us)', sprintf('%.2f (+%.0f vs +%.0f)',
		    $r, $c, $f), '<= 1.25', $r > 0 && $r <= 1.25);
	}
}

# The machine's busy CPU time in microseconds (/proc/stat: user, nice,
# system, irq, softirq; not idle, iowait or steal, the time the VM's
# host gave to others).
sub busy_us {
	open(my $fh, '<', '/proc/stat') or die "/proc/stat: $!";
	my (undef, @t) = split ' ', scalar <$fh>;
	return ($t[0] + $t[1] + $t[2] + $t[5] + $t[6]) * 1e6 /
	    POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

# ab's requests per second for URL during SECS seconds, with the request
# headers HEADERS, and the machine's CPU time per request (us): steadier
# than the rate on a VM whose host lends its CPUs to others too.
sub ab_rps {
	my ($url, $secs, @headers) = @_;
	my $h = join('', map { " -H '$_'" } @headers);
	my $b0 = busy_us();
	my $out = `ab -q -k -c 2 -t $secs$h '$url' 2>&1`;
	my $busy = busy_us() - $b0;
	my ($rps) = $out =~ /Requests per second:\s+([\d.]+)/;
	my ($n) = $out =~ /Complete requests:\s+(\d+)/;
	# A way that answers with errors is fast, not good.  (A page whose
	# length changes, cgit's with its ages, is no error: ab's Length.)
	my ($bad) = $out =~ /Non-2xx responses:\s+(\d+)/;
	$bad //= 0;
	$bad += $1 + $2 + $3 if $out =~ /\(Connect:\ (\d+),\ Receive:\ (\d+),
	    \ Length:\ \d+,\ Exceptions:\ (\d+)\)/x;
	if ($bad) {
		print STDERR "bench: $url: $bad requests failed or not 2xx\n";
		return (0, 0);
	}
	return $rps && $n ? ($rps, $busy / $n) : (0, 0);
}

# req/s through cgiwrap (ScriptAlias handler mode) and direct under one
# Apache; returns the ratio and both medians.
sub apache_rps {
	my ($mpm, $cgi) = @_;
	my $www = "$dir/www";
	mkdir $www;
	system('cp', "$dir/hello", "$www/hello.cgi") == 0 or die;
	chmod 0755, $www, "$www/hello.cgi";
	# The ScriptAlias way walks alias_roots only (none: every URL 403).
	my $conf = config('apache', "roots = {\"$www\"}\n" .
	    "alias_roots = {\"$www\"}\n");
	chmod 0777, $dir;	# www-data writes the log
	my $srv = apache_start(mpm => $mpm, cgi => $cgi,
	    dir => make_tempdir('bench-apache'), conf => <<"EOT");
ScriptAlias /cgi-bin/ $www/
ScriptAlias /w $cgiwrap
SetEnv CGIWRAP_CONFIG $conf
<Directory $www>
	Options +ExecCGI
	Require all granted
</Directory>
<Directory $top>
	Require all granted
</Directory>
EOT
	my @m = ab_each([$srv->url('/cgi-bin/hello.cgi')],
	    [$srv->url('/w/hello.cgi')]);
	$srv->stop;
	chmod 0755, $dir;
	return ratio(@m);
}

# B1: mod_cgid (event), the target; B9: mod_cgi (prefork), reported.
sub b1 {
	my ($r, $text) = apache_rps('event', 'mod_cgid');
	row('B1', 'req/s via cgiwrap / direct, Apache mod_cgid, ab -c 2',
	    $text, '>= 0.90', $r >= 0.90);
}

sub b9 {
	my (undef, $text) = apache_rps('prefork', 'mod_cgi');
	row('B9', 'req/s via cgiwrap / direct, Apache prefork mod_cgi, ab -c 2',
	    $text, 'report', 1);
}

# The median [req/s, CPU us a request] of nginx -> cgiwrap -f, of
# nginx -> fcgiwrap and of nginx -> FastCGI's floor, serving PROG (the
# hello-world by default) with the FastCGI parameter PARAM ("NAME VALUE",
# optional): tests/bench-fcgi.sh; () when it failed.
sub bench_fcgi {
	my ($prog, $param) = @_;
	my $secs = $quick ? 2 : 5;
	local $ENV{CGIWRAP} = $cgiwrap;
	local $ENV{FLOOR} = "$dir/fcgi-floor";
	local $ENV{PROG} = $prog // '';
	local $ENV{FCGI_PARAM} = $param // '';
	my $out = `'$FindBin::Bin/../bench-fcgi.sh' 3 $secs 2 2>&1`;
	my @m = map { [$out =~ /^median $_ ([\d.]+) req\/s, ([\d.]+) us/m] }
	    qw(cgiwrap fcgiwrap floor);
	return @m if !grep { !$_->[0] || !$_->[1] } @m;
	print STDERR $out;
	return ();
}

# B7: req/s nginx -> cgiwrap -f / nginx -> fcgiwrap, hello-world C CGI;
# FastCGI's floor (fcgi-floor.c) beside them, as no wrapper can do better.
sub b7 {
	my ($c, $f, $floor) = bench_fcgi();
	ratio_row('B7', 'req/s nginx->cgiwrap -f / nginx->fcgiwrap, ab -c 2',
	    1.2, $f, $c, $floor);
}

# cgit (Debian's), a real C CGI program: $dir/www/cgit.cgi showing its
# index page of one small repository; returns its config's path (the
# servers pass it as CGIT_CONFIG).
sub cgit_setup {
	my $www = "$dir/www";
	-d $www or mkdir $www or die "mkdir $www: $!";
	system('cp', $CGIT, "$www/cgit.cgi") == 0 or die;
	chmod 0755, $www, "$www/cgit.cgi";
	my $repo = "$dir/repo.git";
	my $work = "$dir/repo";
	my $git = "git -C '$work' -c user.name=bench -c user.email=bench\@localhost";
	system("git init -q '$work' && for i in 1 2 3 4 5; do " .
	    "echo \$i >'$work/f' && $git add f && " .
	    "$git commit -q -m \"commit \$i\" || exit 1; done && " .
	    "git clone -q --bare '$work' '$repo'") == 0 or die "git failed\n";
	my $rc = "$dir/cgitrc";
	open(my $fh, '>', $rc) or die "$rc: $!";
	print $fh "cache-size=0\nvirtual-root=/cgi-bin/cgit.cgi/\n" .
	    "repo.url=bench\nrepo.path=$repo\nrepo.desc=the bench's repository\n";
	close $fh or die "$rc: $!";
	chmod 0644, $rc;
	return $rc;
}

# B12: cgit's index, Apache event + mod_cgid: direct (ScriptAlias) on one
# port, through cgiwrap the Action way (etc/apache-action.conf) on another,
# and through the static floor the same way on the first (/floor/).
sub b12 {
	my ($rc) = @_;
	my $www = "$dir/www";
	make_dirs($dir, qw(conf wrapbin floorbin));
	system('cp', "$dir/floor-static", "$dir/floorbin/floor") == 0 or die;
	my $conf = config('cgit-apache', "roots = {\"$www\"}\n");
	handler_snippets($dir, CGIWRAP => $cgiwrap,
	    CGIWRAP_DIR => "$dir/wrapbin", CONF => $conf, ROOT => $www);
	wrapbin($cgiwrap, $dir);
	chmod 0777, $dir;	# www-data writes the log
	my $srv = apache_start(mpm => 'event', cgi => 'mod_cgid',
	    dir => make_tempdir('bench-apache-cgit'), extra_ports => 1,
	    conf => sub {
		my ($direct, $wrapped) = @_;
		return <<"EOT";
SetEnv CGIT_CONFIG $rc
<VirtualHost 127.0.0.1:$direct>
	ScriptAlias /cgi-bin/ $www/
	<Directory $www>
		Require all granted
	</Directory>
	ScriptAlias /floor-bin/ $dir/floorbin/
	<Directory $dir/floorbin>
		Require all granted
	</Directory>
	Action floor-handler /floor-bin/floor
	Alias /floor/ $www/
	<Location /floor/>
		SetHandler floor-handler
	</Location>
</VirtualHost>
<VirtualHost 127.0.0.1:$wrapped>
	Include "$dir/conf/apache-action.conf"
</VirtualHost>
EOT
	    });
	my ($dport, $wport) = $srv->ports;
	my @rps = ab_each(["http://127.0.0.1:$dport/cgi-bin/cgit.cgi"],
	    ["http://127.0.0.1:$wport/cgi-bin/cgit.cgi"],
	    ["http://127.0.0.1:$dport/floor/cgit.cgi"]);
	$srv->stop;
	chmod 0755, $dir;
	ratio_row('B12', 'cgit index req/s, cgiwrap (Action) / direct, ' .
	    'Apache event mod_cgid', 0.85, @rps);
}

# B13: cgit's index, lighttpd cgi.assign through cgiwrap
# (etc/lighttpd.conf), directly for requests with X-Direct: 1, and through
# the static floor for those with X-Floor: 1.
sub b13 {
	my ($rc) = @_;
	my $www = "$dir/www";
	my $conf = config('cgit-lighttpd', "roots = {\"$www\"}\n");
	-d "$dir/conf" or make_dirs($dir, 'conf');
	handler_snippets($dir, CGIWRAP => $cgiwrap,
	    CGIWRAP_DIR => "$dir/wrapbin", CONF => $conf, ROOT => $www);
	chmod 0777, $dir;
	my $srv = lighttpd_start(dir => make_tempdir('bench-lighttpd-cgit'),
	    conf => <<"EOT");
include "$dir/conf/lighttpd.conf"
setenv.add-environment += ( "CGIT_CONFIG" => "$rc" )
\$REQUEST_HEADER["X-Direct"] == "1" {
    cgi.assign = ( ".cgi" => "" )
}
\$REQUEST_HEADER["X-Floor"] == "1" {
    cgi.assign = ( ".cgi" => "$dir/floor-static" )
}
EOT
	my $url = $srv->url('/cgi-bin/cgit.cgi');
	my @rps = ab_each([$url, 'X-Direct: 1'], [$url], [$url, 'X-Floor: 1']);
	$srv->stop;
	chmod 0755, $dir;
	ratio_row('B13', 'cgit index req/s, cgiwrap / direct, lighttpd ' .
	    'cgi.assign', 0.85, @rps);
}

# B14: cgit's index, nginx -> cgiwrap -f / nginx -> fcgiwrap, and the
# floor beside them.
sub b14 {
	my ($rc) = @_;
	my ($c, $f, $floor) = bench_fcgi("$dir/www/cgit.cgi",
	    "CGIT_CONFIG $rc");
	ratio_row('B14', 'cgit index req/s, nginx->cgiwrap -f / ' .
	    'nginx->fcgiwrap', 1.1, $f, $c, $floor);
}

# Each [URL, request headers...] measured by ab_rps: ab goes through them
# three times, in a new order each time; in the order given, the median
# [req/s, CPU us a request] of each.
sub ab_each {
	my @ways = @_;
	my $secs = $quick ? 2 : 5;
	my (@rps, @cpu);
	for (1 .. 3) {
		for my $i (shuffle 0 .. $#ways) {
			my ($url, @h) = @{ $ways[$i] };
			my ($r, $c) = ab_rps($url, $secs, @h);
			push @{ $rps[$i] }, $r;
			push @{ $cpu[$i] }, $c;
		}
	}
	# One round failed, the way failed (undef).
	return map { (grep { !$_ } @{ $rps[$_] }) ? undef :
	    [median(@{ $rps[$_] }), median(@{ $cpu[$_] })] } 0 .. $#ways;
}

# cgiwrap's req/s over the yardstick's (direct, or fcgiwrap), each given
# as [req/s, CPU us a request] or undef when it failed, with the floor's
# beside it when measured: the most that a wrapper (of cgiwrap's
# architecture, under a server) could give there.  Returns the ratio and
# its text.
sub ratio {
	my ($direct, $wrapped, $floor) = @_;
	return (0, 'failed') if !$direct || !$wrapped;
	my ($d, $w) = ($direct->[0], $wrapped->[0]);
	my $r = $d ? $w / $d : 0;
	my ($f, $fc) = ('', '');
	$f = '; floor failed' if @_ > 2 && !defined $floor;
	if (defined $floor && $d) {
		$f = sprintf('; floor %.2f', $floor->[0] / $d);
		$fc = sprintf(', floor %.2f', $floor->[1] / 1000);
	}
	return ($r, sprintf('%.2f (%.0f vs %.0f%s; CPU/req %.2f vs %.2f ms%s)',
	    $r, $w, $d, $f, $wrapped->[1] / 1000, $direct->[1] / 1000, $fc));
}

sub ratio_row {
	my ($id, $what, $target, @ways) = @_;
	my ($r, $text) = ratio(@ways);
	row($id, $what, $text, ">= $target", $r >= $target);
}

# BENCH_ONLY=B12,B13 runs only those rows.
my %only = map { ($_ => 1) } split /,/, $ENV{BENCH_ONLY} // '';
sub want { return !%only || grep { $only{$_} } @_ }

print STDERR "cgiwrap bench: $cgiwrap\n";
build();
b1() if want('B1') && have_apache() && $> == 0;
b9() if want('B9') && have_apache() && $> == 0;
b7() if want('B7') && -x '/usr/sbin/nginx' && -x '/usr/sbin/fcgiwrap' &&
    $> == 0;
if (want(qw(B12 B13 B14)) && -x $CGIT && $> == 0) {
	my $rc = cgit_setup();
	b12($rc) if want('B12') && have_apache();
	b13($rc) if want('B13') && have_lighttpd();
	b14($rc) if want('B14') && -x '/usr/sbin/nginx' &&
	    -x '/usr/sbin/fcgiwrap';
}
b2() if want('B2');
b3() if want('B3');
b4() if want('B4');
b5() if want('B5');
b6() if want('B6');
b8() if want(qw(B8 B10 B11));

print "\n| id | figure | measured | target | met |\n|---|---|---|---|---|\n";
for my $r (sort { substr($a->[0], 1) <=> substr($b->[0], 1) } @rows) {
	printf "| %s | %s | %s | %s | %s |\n", $r->[0], $r->[1], $r->[2],
	    $r->[3], $r->[4] ? 'yes' : 'NO';
}
