#!/usr/bin/perl
# cgiwrap as Apache's suEXEC helper (issue 11), behind a real Apache
# (prefork + mod_cgi, mod_suexec, mod_userdir):
#  - the binary under test, setuid root, is installed as the "suexec"
#    alternative (/usr/lib/apache2/suexec, the path Apache is built with),
#    and the alternative is left as it was found (END, signals included);
#    deb.t's package registers one too: each holds Alternative.pm's lock
#    while it changes it;
#  - Apache runs in a mount namespace of its own where /etc is an overlay
#    holding the test's /etc/cgiwrap.conf, so no other test sees it;
#  - test users own the programs, which run as them (id -u) for a
#    SuexecUserGroup vhost and a ~user URL, with the whole engine: log
#    line, shutdown command (as the user), abort, ignore_user_abort, time
#    limit; www-data runs its own through allow_users/allow_groups;
#  - Apache's CGI handling stays whole, each compared with the same vhost
#    without suexec: nph-, a broken program (Apache's own 500 and the
#    same ScriptLog entry), AcceptPathInfo
#    Off (404), no ExecCGI (403), an ExtFilterDefine output filter, SetEnv
#    in <Directory> (through the safe list, as Apache's suexec);
#  - every refusal: 500, one line in the error log naming the check.
use strict;
use warnings;
use Test::More;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd ();
use POSIX ();
use File::Copy ();
use File::Path qw(remove_tree);
use Harness ();
use Server qw(:all write_file parse_env);
use Alternative qw(alternative_lock alternative_state);

my $CGIWRAP = cgiwrap_behind_apache();
my $SUEXEC_LINK = '/usr/lib/apache2/suexec';
my $T = \&Harness::T;

for my $tool (qw(unshare nsenter update-alternatives useradd userdel)) {
	ok(scalar(grep { -x "$_/$tool" } split(/:/, $ENV{PATH} // ''),
	    '/usr/sbin', '/sbin'), "$tool is installed")
	    or BAIL_OUT("no $tool");
}
for my $m (qw(suexec userdir ext_filter)) {
	ok(-f "$Server::APACHE_MOD/mod_$m.so", "mod_$m is installed")
	    or BAIL_OUT("no mod_$m");
}

# ---------------------------------------------------------------------------
# What this test changes on the machine, undone at END (signals exit
# through END: Server.pm's handlers).

my (@users, $altdir, $alt_before, $alt_installed);

sub restore {
	if ($alt_installed) {
		system('update-alternatives', '--quiet', '--remove', 'suexec',
		    "$altdir/suexec");
		if ($alt_before =~ /^Status: manual$/m &&
		    $alt_before =~ /^Value: (\S+)$/m) {
			system('update-alternatives', '--quiet', '--set',
			    'suexec', $1);
		} elsif ($alt_before ne '') {
			system('update-alternatives', '--quiet', '--auto',
			    'suexec');
		}
		$alt_installed = 0;
	}
	if ($altdir && -d $altdir) {
		unlink "$altdir/suexec";
		rmdir $altdir;
	}
	# (quiet: the users have no mail spool to remove)
	system('sh', '-c', 'userdel -r "$1" 2>/dev/null', 'sh', $_)
	    for splice @users;
	return alternative_state('suexec') eq $alt_before;
}

END {
	local ($?, $!, $@);
	# The servers first (Server.pm's END stops them too, later).
	restore() if $$ == ($main::PID // 0);
}
$main::PID = $$;

ok(alternative_lock('suexec'), 'the suexec alternative is ours (no other '
    . 'test changes it)') or BAIL_OUT('the lock of the suexec alternative');
$alt_before = alternative_state('suexec');

# ---------------------------------------------------------------------------
# Users and the tree

my $tag = "sx$$";
$tag =~ s/\D//g;
$tag = substr("sx$tag", 0, 12);
my $t = Cwd::abs_path(make_tempdir('suexec'));

# A user of its own group, home T/home/NAME (0755).
sub add_user {
	my ($name, @opt) = @_;
	mkdir "$t/home";
	chmod 0755, "$t/home";
	system('useradd', '-U', '-m', '-d', "$t/home/$name", '-s', '/bin/sh',
	    @opt, $name) == 0 or BAIL_OUT("useradd $name failed");
	push @users, $name;
	chmod 0755, "$t/home/$name";
	my (undef, undef, $uid, $gid) = getpwnam($name);
	return ($uid, $gid);
}

my ($ua, $ga) = add_user("${tag}a");
my ($ub, $gb) = add_user("${tag}b");
ok($ua >= 1000 && $ub >= 1000, "test users ${tag}a ($ua) and ${tag}b ($ub)");
my ($uwww, $gwww) = (getpwnam('www-data'))[2, 3];

# DIR made with MODE, owned by UID:GID.
sub dir_as {
	my ($dir, $mode, $uid, $gid) = @_;
	-d $dir or mkdir $dir or die "mkdir $dir: $!";
	chown $uid, $gid, $dir or die "chown $dir: $!";
	chmod $mode, $dir or die "chmod $dir: $!";
}

# Program PATH with TEXT, MODE, owned by UID:GID.
sub prog_as {
	my ($path, $text, $mode, $uid, $gid) = @_;
	write_file($path, 0700, $text);
	chown $uid, $gid, $path or die "chown $path: $!";
	chmod $mode, $path or die "chmod $path: $!";
}

my $HDR = "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n";
my %prog = (
	'id.cgi' => "#!/bin/sh\n$HDR" . 'echo "uid=$(id -u) gid=$(id -g)"'
	    . "\necho \"path=\$PATH foo=\${FOO-unset} tz=\${TZ-unset}\"\n"
	    . "echo \"umask=\$(umask)\"\n",
	'nph-raw.cgi' => "#!/bin/sh\nprintf 'HTTP/1.0 203 Raw\\r\\n"
	    . "Content-Type: text/plain\\r\\n\\r\\nnph as %s\\n' \"\$(id -u)\"\n",
	'broken.cgi' => "#!/bin/sh\necho 'this is no header'\n",
	'talk.cgi' => "#!/bin/sh\n$HDR" . "echo \$\$ > \"$t/pid/talk\"\n"
	    . "while :; do echo tick; sleep 0.1; done\n",
	'ignore.cgi' => "#!/bin/sh\n$HDR" . "echo started\n"
	    . "trap 'echo seen > \"$t/pid/ignore.seen\"' USR1\n"
	    . "while [ ! -e \"$t/pid/release\" ]; do echo tick || :;"
	    . " sleep 0.1; done\necho done > \"$t/pid/ignore.done\"\n",
	'slow.cgi' => "#!/bin/sh\n$HDR" . "echo slow\nexec sleep 60\n",
	'tr.cgi' => "#!/bin/sh\n$HDR" . "echo filtered by apache\n",
	'pi.cgi' => "#!/bin/sh\n$HDR" . "echo \"pi=\$PATH_INFO\"\n",
);

dir_as("$_", 0755, 0, 0) for "$t/www", "$t/etc", "$t/var", "$t/other";
dir_as("$t/rec", 01777, 0, 0);
dir_as("$t/pid", 01777, 0, 0);
my $cgi = "$t/www/cgi-bin";
dir_as($cgi, 0755, $ua, $ga);
prog_as("$cgi/$_", $prog{$_}, 0755, $ua, $ga) for keys %prog;
# The refusals, each in a directory of its own.
dir_as("$t/www/gw", 0775, $ua, $ga);
prog_as("$t/www/gw/id.cgi", $prog{'id.cgi'}, 0755, $ua, $ga);
prog_as("$cgi/theirs.cgi", $prog{'id.cgi'}, 0755, $ub, $gb);
prog_as("$cgi/setuid.cgi", $prog{'id.cgi'}, 04755, $ua, $ga);
dir_as("$t/other/cgi-bin", 0755, $ua, $ga);
prog_as("$t/other/cgi-bin/id.cgi", $prog{'id.cgi'}, 0755, $ua, $ga);
dir_as("$t/www/nopi", 0755, $ua, $ga);
prog_as("$t/www/nopi/pi.cgi", $prog{'pi.cgi'}, 0755, $ua, $ga);
dir_as("$t/www/noexec", 0755, $ua, $ga);
prog_as("$t/www/noexec/id.cgi", $prog{'id.cgi'}, 0755, $ua, $ga);
dir_as("$t/www/plain", 0755, $uwww, $gwww);
prog_as("$t/www/plain/id.cgi", $prog{'id.cgi'}, 0755, $uwww, $gwww);
# ~b: T/home/b/public_html/cgi-bin
dir_as("$t/home/${tag}b/public_html", 0755, $ub, $gb);
dir_as("$t/home/${tag}b/public_html/cgi-bin", 0755, $ub, $gb);
prog_as("$t/home/${tag}b/public_html/cgi-bin/id.cgi", $prog{'id.cgi'},
    0755, $ub, $gb);

# The log is written by the supervisors, as the target users.
my $log = "$t/var/cgiwrap.log";
write_file($log, 0666, '');
chmod 0666, $log;
write_file("$t/rec.sh", 0755, <<"EOF");
#!/bin/sh
tmp="$t/rec/.tmp.\$\$"
{ env; echo "REC_UID=\$(id -u)"; } > "\$tmp" && mv "\$tmp" "$t/rec/\$CGIWRAP_PID"
EOF

# /etc/cgiwrap.conf inside Apache's namespace: T/etc-upper is the upper
# layer of an overlay on /etc, so it is root's 0755 as /etc is.
dir_as("$t/etc-upper", 0755, 0, 0);
dir_as("$t/etc-work", 0755, 0, 0);
write_file("$t/etc-upper/cgiwrap.conf", 0644, <<"EOF");
log = "$log"
kill_grace = 1s
shutdown "rec" {
    command = {"$t/rec.sh"}
}
script "*/ignore.cgi" {
    ignore_user_abort = true
    notify_signal = "USR1"
}
script "*/slow.cgi" {
    max_execution_time = 1s
}
suexec {
    caller = "www-data"
    docroot = "$t/www"
    userdir_suffix = "public_html"
    min_uid = 1000
    min_gid = 1000
    allow_users = {"www-data"}
    allow_groups = {"www-data"}
}
EOF
my @wrap = ('unshare', '--mount', '--propagation', 'private', '--', $^X,
    '-e', 'system("mount", "-t", "overlay", "overlay", "-o", '
    . '"lowerdir=/etc,upperdir=$ARGV[0],workdir=$ARGV[1]", "/etc") == 0 '
    . 'or die "mount overlay: $?\n"; shift; shift; exec { $ARGV[0] } @ARGV;'
    . ' die "exec: $!\n"', "$t/etc-upper", "$t/etc-work");

# ---------------------------------------------------------------------------
# The alternative: a copy of the binary under test, as make install-suexec
# installs it (4754 root:www-data), at a priority below Debian's packages.

$altdir = "/usr/local/lib/cgiwrap-suexec-test.$$";
mkdir $altdir, 0755 or BAIL_OUT("mkdir $altdir: $!");
File::Copy::copy($CGIWRAP, "$altdir/suexec") or BAIL_OUT("copy: $!");
chown 0, $gwww, "$altdir/suexec";
chmod 04754, "$altdir/suexec";
$alt_installed = 1;
is(system('update-alternatives', '--quiet', '--install', $SUEXEC_LINK,
    'suexec', "$altdir/suexec", '5'), 0, 'installed as an alternative');
system('update-alternatives', '--quiet', '--set', 'suexec',
    "$altdir/suexec");
is(Cwd::abs_path($SUEXEC_LINK), "$altdir/suexec",
    "$SUEXEC_LINK is the binary under test");

# ---------------------------------------------------------------------------
# Apache

# Written by Apache's children, as www-data.
write_file("$t/var/script.log", 0644, '');
chown_www("$t/var/script.log");

my $EXTRA = <<"EOF";
LoadModule suexec_module $Server::APACHE_MOD/mod_suexec.so
LoadModule userdir_module $Server::APACHE_MOD/mod_userdir.so
LoadModule ext_filter_module $Server::APACHE_MOD/mod_ext_filter.so
ScriptLog "$t/var/script.log"
ExtFilterDefine upper mode=output cmd="/usr/bin/tr a-z A-Z"
EOF

sub vhost {
	my ($port, $ids, $body) = @_;
	return <<"EOF";
<VirtualHost 127.0.0.1:$port>
    DocumentRoot "$t/www"
    SuexecUserGroup $ids
$body
</VirtualHost>
EOF
}

my $MAIN = <<"EOF";
    ScriptAlias /cgi-bin/ "$cgi/"
    ScriptAlias /outside/ "$t/other/cgi-bin/"
    Alias /gw/ "$t/www/gw/"
    Alias /nopi/ "$t/www/nopi/"
    Alias /noexec/ "$t/www/noexec/"
    UserDir public_html
    <Directory "$t/www">
        Require all granted
    </Directory>
    <Directory "$t/other">
        Require all granted
    </Directory>
    <Directory "$cgi">
        SetEnv FOO bar
        SetEnv TZ UTC0
    </Directory>
    <Directory ~ "^$t/www/(gw|nopi|noexec)">
        AddHandler cgi-script .cgi
    </Directory>
    <Directory ~ "^$t/www/(gw|nopi)">
        Options +ExecCGI
    </Directory>
    <Directory "$t/www/nopi">
        AcceptPathInfo Off
    </Directory>
    <Directory "$t/home/*/public_html/cgi-bin">
        Options +ExecCGI
        SetHandler cgi-script
        Require all granted
    </Directory>
    <Location /cgi-bin/tr.cgi>
        SetOutputFilter upper
    </Location>
EOF
my $PLAIN = <<"EOF";
    Alias /plain/ "$t/www/plain/"
    <Directory "$t/www">
        Require all granted
        Options +ExecCGI
        AddHandler cgi-script .cgi
    </Directory>
EOF

my ($p_daemon, $p_root, $p_direct);
my $srv = apache_started('Apache starts with cgiwrap as its suexec',
    dir => "$t/apache", extra_ports => 4, wrap => \@wrap,
    conf => sub {
	my ($port, $p2, $p3, $p4, $p5) = @_;
	($p_daemon, $p_root, $p_direct) = ($p3, $p4, $p5);
	# The same vhost without SuexecUserGroup: Apache runs the programs
	# itself, as www-data, and sets the standard to compare with.
	(my $direct = vhost($p5, '-', $MAIN)) =~ s/^ *SuexecUserGroup.*\n//m;
	return $EXTRA . vhost($port, "${tag}a ${tag}a", $MAIN) . $direct
	    . vhost($p2, 'www-data www-data', $PLAIN)
	    . vhost($p3, 'daemon daemon', $PLAIN)
	    . vhost($p4, 'root root', $PLAIN);
    });
unless ($srv) {
	done_testing();
	exit 1;
}
my ($port, $p2) = $srv->ports;
# (Logged while the port may already answer.)
ok(wait_for(sub { $srv->error_log =~
    /suEXEC mechanism enabled \(wrapper: \Q$SUEXEC_LINK\E\)/ }, $T->(5)),
    'Apache found the setuid helper') or diag($srv->error_log);

sub get {
	my ($path, %o) = @_;
	return curl_get($srv->url($path, $o{port}), max_time => $T->(20),
	    %o);
}

# The log line about TARGET, parsed (waited for).
sub log_of {
	my ($target, $status) = @_;
	my $line;
	wait_for(sub {
		($line) = grep { /(?:^|\s)target=\Q$target\E(?:\s|$)/ &&
		    /\sstatus=\Q$status\E(?:\s|$)/ } split /\n/, slurp($log);
		return defined $line;
	}, $T->(10));
	return $line ? Harness::parse_log_line($line) : {};
}

# The shutdown record of the next request of TARGET (waited for).
my %seen;
sub record_of {
	my ($target) = @_;
	my $rec;
	wait_for(sub {
		opendir(my $dh, "$t/rec") or return 0;
		for (sort grep { !/^\./ && !$seen{$_} } readdir $dh) {
			my $r = parse_env(slurp("$t/rec/$_"));
			next unless ($r->{CGIWRAP_TARGET} // '') eq $target;
			$seen{$_} = 1;
			$rec = $r;
			return 1;
		}
		return 0;
	}, $T->(10));
	return $rec // {};
}

# The error log's refusal lines since OFFSET.
sub refusals {
	my ($from) = @_;
	return grep { /suexec: refused/ }
	    split /\n/, substr($srv->error_log, $from);
}

# ---------------------------------------------------------------------------

subtest 'a SuexecUserGroup vhost runs the program as its owner' => sub {
	my $r = get('/cgi-bin/id.cgi');
	is($r->{code}, 200, 'status 200');
	like($r->{body}, qr/^uid=$ua gid=$ga$/m, "runs as ${tag}a");
	like($r->{body}, qr{^path=/usr/local/bin:/usr/bin:/bin }m,
	    'the fixed PATH');
	like($r->{body}, qr/^umask=0022$/m, 'umask 022');
	my $l = log_of("$cgi/id.cgi", 'NORMAL');
	is($l->{http}, 200, 'the log line')
	    or diag(slurp($log));
	my $rec = record_of("$cgi/id.cgi");
	is($rec->{CGIWRAP_STATUS}, 0, 'the shutdown command ran, status 0');
	is($rec->{REC_UID}, $ua, "... as ${tag}a");
};

subtest 'a ~user URL runs the program as that user' => sub {
	my $r = get("/~${tag}b/cgi-bin/id.cgi");
	is($r->{code}, 200, 'status 200') or diag($r->{body}, $srv->error_log);
	like($r->{body}, qr/^uid=$ub gid=$gb$/m, "runs as ${tag}b");
};

subtest 'www-data, allowed below min_uid, runs its own programs' => sub {
	my $r = get('/plain/id.cgi', port => $p2);
	is($r->{code}, 200, 'status 200') or diag($r->{body});
	like($r->{body}, qr/^uid=$uwww gid=$gwww$/m, 'runs as www-data');
};

subtest 'a client that leaves: the program is stopped, status ABORTED' => sub {
	unlink "$t/pid/talk";
	my $r = get('/cgi-bin/talk.cgi', max_time => 1);
	isnt($r->{rc}, 0, 'curl gave up');
	my $l = log_of("$cgi/talk.cgi", 'ABORTED');
	is($l->{status}, 'ABORTED', 'the log line says ABORTED')
	    or diag(slurp($log));
	my $pid = slurp("$t/pid/talk");
	chomp $pid;
	ok($pid && wait_for(sub { !kill 0, $pid }, $T->(5)),
	    'the program is gone');
	my $rec = record_of("$cgi/talk.cgi");
	is($rec->{CGIWRAP_STATUS}, 1, 'the shutdown command got status 1');
};

subtest 'ignore_user_abort: the program finishes its work' => sub {
	my $r = get('/cgi-bin/ignore.cgi', max_time => 1);
	isnt($r->{rc}, 0, 'curl gave up');
	# Released once the program is told (notify_signal) that the client
	# left: released before, it could end before cgiwrap saw the client go.
	ok(wait_for_data("$t/pid/ignore.seen", $T->(10)),
	    'the program is told the client left');
	write_file("$t/pid/release", 0644, "go\n");
	ok(wait_for_data("$t/pid/ignore.done", $T->(10)),
	    'the program finished after the client left');
	my $l = log_of("$cgi/ignore.cgi", 'ABORTED');
	is($l->{status}, 'ABORTED', 'logged as ABORTED');
};

subtest 'the time limit' => sub {
	my $r = get('/cgi-bin/slow.cgi');
	like($r->{body}, qr/^slow$/m, 'the output before the limit');
	ok($r->{elapsed} < $T->(8), 'the request ended at the limit');
	my $l = log_of("$cgi/slow.cgi", 'TIMEOUT');
	is($l->{status}, 'TIMEOUT', 'logged as TIMEOUT') or diag(slurp($log));
	my $rec = record_of("$cgi/slow.cgi");
	is($rec->{CGIWRAP_STATUS}, 2, 'the shutdown command got status 2');
};

subtest "Apache's CGI handling is kept, as without suexec" => sub {
	my %r = map { ($_ => get('/cgi-bin/nph-raw.cgi', port => $_)) }
	    $port, $p_direct;
	is($r{$port}{code}, 203, 'nph-: the status line of the program');
	is($r{$port}{code}, $r{$p_direct}{code}, '... as without suexec');
	like($r{$port}{body}, qr/^nph as $ua$/m, '... run as its owner');

	# A broken header block is Apache's to judge, as without suexec.
	my %entry;
	for my $p ($port, $p_direct) {
		my $from = length slurp("$t/var/script.log");
		$r{$p} = get('/cgi-bin/broken.cgi', port => $p);
		# Apache writes an entry at once; only the date and the
		# port differ.
		ok(wait_for(sub { ($entry{$p} = substr(slurp(
		    "$t/var/script.log"), $from)) =~ /broken\.cgi/ },
		    $T->(5)), "a broken program: a ScriptLog entry"
		    . ($p == $port ? '' : ' without suexec'));
	}
	is($r{$p_direct}{code}, 500, 'a broken program: Apache alone answers 500');
	is($r{$port}{code}, 500, '... and through suexec and cgiwrap, 500');
	s/^%% \[[^]]*\]/%% [DATE]/mg, s/^Host: .*$/Host: HOST/mg for values %entry;
	like($entry{$p_direct}, qr/^%response\nthis is no header$/m,
	    'the direct ScriptLog entry has the response');
	is($entry{$port}, $entry{$p_direct}, '... and the same through cgiwrap');

	for (['/nopi/pi.cgi/extra', 404, 'AcceptPathInfo Off'],
	    ['/noexec/id.cgi', 403, 'no ExecCGI']) {
		my ($path, $code, $what) = @$_;
		%r = map { ($_ => get($path, port => $_)) } $port, $p_direct;
		is($r{$port}{code}, $code, "$what: $code");
		is($r{$port}{code}, $r{$p_direct}{code}, '... as without suexec');
	}
	%r = map { ($_ => get('/cgi-bin/tr.cgi', port => $_)) } $port, $p_direct;
	like($r{$port}{body}, qr/^FILTERED BY APACHE$/m,
	    'the output filter of the <Location>');
	is($r{$port}{body}, $r{$p_direct}{body}, '... as without suexec');

	%r = map { ($_ => get('/cgi-bin/id.cgi', port => $_)) } $port, $p_direct;
	like($r{$port}{body}, qr/ tz=UTC0$/m, 'SetEnv of a safe variable passes');
	like($r{$p_direct}{body}, qr/ foo=bar /m, 'SetEnv FOO without suexec');
	like($r{$port}{body}, qr/ foo=unset /m,
	    '... is dropped, as by Apache\'s suexec (not on its safe list)');
};

my %refusal = (
	'uid below min_uid' => ['/plain/id.cgi', $p_daemon, 'min_uid'],
	'root as the target' => ['/plain/id.cgi', $p_root, 'min_uid'],
	'group-writable directory' => ['/gw/id.cgi', undef, 'directory'],
	'owner mismatch' => ['/cgi-bin/theirs.cgi', undef, 'owner'],
	'setuid program' => ['/cgi-bin/setuid.cgi', undef, 'program'],
	'program outside the docroot' => ['/outside/id.cgi', undef, 'docroot'],
);
for my $name (sort keys %refusal) {
	my ($path, $p, $check) = @{ $refusal{$name} };
	subtest "refused: $name" => sub {
		my $from = length $srv->error_log;
		my $r = get($path, port => $p);
		is($r->{code}, 500, 'status 500');
		unlike($r->{body}, qr/uid=/, 'the program did not run');
		my @l;
		wait_for(sub { @l = refusals($from) }, $T->(5));
		is(scalar @l, 1, 'one line in the error log') or diag(@l);
		like($l[0] // '', qr/refused \(\Q$check\E\)/,
		    "naming the check $check");
	};
}

# The exit status and output (stderr too) of ARGV, run from DIR.
sub run_in {
	my ($dir, @argv) = @_;
	my $pid = open(my $fh, '-|') // die "fork: $!";
	if ($pid == 0) {
		open(STDERR, '>&', \*STDOUT);
		chdir $dir or die "chdir $dir: $!";
		{ no warnings 'exec'; exec { $argv[0] } @argv; }
		POSIX::_exit(127);
	}
	my $out = do { local $/; <$fh> } // '';
	close $fh;
	return ($? >> 8, $out);
}

# Through Apache's namespace, as Apache would call it but for one thing.
sub direct {
	my ($user, $group, @args) = @_;
	return run_in('/', 'nsenter', '--mount', '--target', $srv->pid, '--',
	    'setpriv', "--reuid=$user", "--regid=$group", '--clear-groups', '--',
	    $SUEXEC_LINK, @args);
}

subtest 'refused: a caller other than the configured one' => sub {
	my ($rc, $out) = direct('nobody', 'nogroup', "${tag}a", "${tag}a", 'id.cgi');
	is($rc, 103, "exit 103, as Apache's suexec");
	like($out, qr/refused \(caller\)/, 'naming the check');
	unlike($out, qr/uid=/, 'nothing ran');
};

subtest "refused: '..' in the command" => sub {
	my ($rc, $out) = direct('www-data', 'www-data', "${tag}a", "${tag}a",
	    '../www/cgi-bin/id.cgi');
	is($rc, 104, "exit 104, as Apache's suexec");
	like($out, qr/refused \(command\)/, 'naming the check');
};

subtest '-c is ignored' => sub {
	write_file("$t/evil.conf", 0644,
	    "suexec {\n    caller = \"nobody\"\n    docroot = \"/\"\n}\n");
	my ($rc, $out) = direct('nobody', 'nogroup', '-c', "$t/evil.conf",
	    "${tag}a", "${tag}a", 'id.cgi');
	is($rc, 103, 'the caller is still refused');
	like($out, qr/refused \(caller\): nobody \(uid \d+\) is not www-data/,
	    '... by the configuration of /etc/cgiwrap.conf');
};

# A /etc/cgiwrap.conf of its own, in a namespace of its own.
sub with_conf {
	my ($text, $mode) = @_;
	my $u = "$t/etc2-upper";
	remove_tree($u, "$t/etc2-work");
	dir_as($_, 0755, 0, 0) for $u, "$t/etc2-work";
	write_file("$u/cgiwrap.conf", $mode, $text);
	chmod $mode, "$u/cgiwrap.conf";
	return run_in($cgi, @wrap[0 .. 7], $u, "$t/etc2-work", 'env',
	    "CGIWRAP_CONFIG=$t/evil.conf", 'setpriv', '--reuid=www-data',
	    '--regid=www-data', '--clear-groups', '--', $SUEXEC_LINK, "${tag}a",
	    "${tag}a", 'id.cgi');
}

subtest 'refused: a configuration others may write, or none for suexec' => sub {
	my $conf = slurp("$t/etc-upper/cgiwrap.conf");
	my ($rc, $out) = with_conf($conf, 0644);
	is($rc, 0, 'the same file, root\'s alone: the program runs');
	like($out, qr/^uid=$ua /m, '... as its owner');
	($rc, $out) = with_conf($conf, 0664);
	is($rc, 1, 'writable by the group: refused');
	like($out, qr{refused \(config\): /etc/cgiwrap.conf: not a regular file owned and writable only by root},
	    '... naming the check');
	($rc, $out) = with_conf("log = \"$log\"\n", 0644);
	is($rc, 1, 'no suexec section: refused');
	like($out, qr/refused \(config\): .*no suexec section/, '... saying so');
	($rc, $out) = with_conf("suexec {\n    min_uid = 0\n}\n", 0644);
	is($rc, 1, 'min_uid = 0: refused');
	like($out, qr/cgiwrap.conf:2: min_uid: 0 is not from 1/,
	    '... with the line of the error');
};

ok($srv->stop, 'Apache stops, leaving nothing') or diag($srv->stop_problem);
ok(restore(), 'the suexec alternative is as it was found');
ok(!getpwnam("${tag}a") && !getpwnam("${tag}b"), 'the test users are gone');
done_testing();
