#!/usr/bin/perl
# `make demo`: cgiwrap's main job end to end on a real Apache.
#
# Starts Apache 2.4 (event MPM + mod_cgid, Debian's default) on 127.0.0.1
# (port 8080, DEMO_PORT to change) whose /cgi-bin/ runs three legacy
# scripts through cgiwrap in handler mode (etc/apache-action.conf, the
# Action handler, with the policy of etc/demo/cgiwrap.conf), walks through
# one request to each and prints what happened from cgiwrap's log line and
# the shutdown command's record, then keeps serving until Ctrl-C
# (DEMO_KEEP=0: exits after the walk-through).
#
# Everything lives in a temporary directory that is removed at the end.
# Must run as root: Apache then runs the scripts as www-data.  CGIWRAP
# names the binary (default: ./cgiwrap of this tree).  Exit status 0 when
# the three outcomes were the expected ones.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../../tests/lib";
use Cwd qw(abs_path);
use File::Copy qw(copy);
use POSIX ();
use Time::HiRes qw(time sleep);
use Server qw(apache_start have_apache make_tempdir instantiate write_file
    chown_www wait_for slurp curl_get);

$| = 1;
my $TOP = abs_path("$FindBin::Bin/../..");
my $DEMO = "$TOP/etc/demo";
my $PORT = $ENV{DEMO_PORT} // 8080;
my $KEEP = $ENV{DEMO_KEEP} // 1;
my $CGIWRAP = abs_path($ENV{CGIWRAP} || "$TOP/cgiwrap");

sub fail {
	print STDERR "demo: @_\n";
	exit 1;
}

fail('must run as root (Apache then runs the scripts as www-data)')
    if $> != 0;
fail("Apache 2.4 is not installed ($Server::APACHE); make deps installs it")
    unless have_apache();
fail("DEMO_PORT=$PORT is not a port number")
    unless $PORT =~ /^\d+\z/ && $PORT > 0 && $PORT < 65536;
fail("no cgiwrap binary at $CGIWRAP (run make)") unless -x $CGIWRAP;
fail('curl is not installed') unless grep { -x "$_/curl" }
    split /:/, $ENV{PATH} // '';

# Ctrl-C and kill end the demo through exit, so that Server.pm's END
# stops Apache and removes the directory.
my $stopping;
for my $sig (qw(INT TERM HUP)) {
	$SIG{$sig} = sub {
		print "\nStopping Apache.\n" unless $stopping++;
		exit 0;
	};
}

# ---------------------------------------------------------------------------
# The tree

my $dir = make_tempdir('demo');
for my $d (qw(cgi-bin cgiwrap-bin bin var apache)) {
	mkdir "$dir/$d" or fail("mkdir $dir/$d: $!");
	chmod 0755, "$dir/$d";
}
chown_www("$dir/var");
copy($CGIWRAP, "$dir/cgiwrap-bin/cgiwrap") or fail("copy $CGIWRAP: $!");
chmod 0755, "$dir/cgiwrap-bin/cgiwrap";
for my $s (qw(quick.cgi report.cgi hung.cgi)) {
	write_file("$dir/cgi-bin/$s", 0755, slurp("$DEMO/$s"));
}
write_file("$dir/bin/record", 0755, slurp("$DEMO/record"));
my $conf = "$dir/cgiwrap.conf";
write_file($conf, 0644, instantiate("$DEMO/cgiwrap.conf", DIR => $dir));
write_file("$dir/apache-cgiwrap.conf", 0644,
    instantiate("$TOP/etc/apache-action.conf",
    CGIWRAP_DIR => "$dir/cgiwrap-bin", CONF => $conf, ROOT => "$dir/cgi-bin"));
my $LOG = "$dir/var/cgiwrap.log";
my $RECORDS = "$dir/var/records";

my $check = `'$CGIWRAP' -t -c '$conf' 2>&1`;
fail("the demo configuration is refused:\n$check") if $?;

print <<"EOF";
cgiwrap demo
============
Apache 2.4 (event MPM + mod_cgid) on http://127.0.0.1:$PORT/ runs three
legacy scripts from /cgi-bin/ through cgiwrap in handler mode:
  Apache config   etc/apache-action.conf (AddHandler + Action)
  cgiwrap policy  etc/demo/cgiwrap.conf
  scripts         etc/demo/quick.cgi, report.cgi, hung.cgi
  everything in   $dir
EOF

my $srv = eval {
	apache_start(mpm => 'event', cgi => 'mod_cgid', port => $PORT,
	    dir => "$dir/apache", conf => "Include \"$dir/apache-cgiwrap.conf\"\n");
};
unless ($srv) {
	my $why = $@;
	fail("port $PORT is in use; choose another with DEMO_PORT=...")
	    if $why =~ /Address already in use/;
	fail("Apache did not start:\n$why");
}

# ---------------------------------------------------------------------------
# The walk-through

# The first line of FILE about the script NAME (waited for, bounded).
sub line_about {
	my ($file, $name, $timeout) = @_;
	my $line;
	wait_for(sub {
		($line) = grep { m{target=\S*/\Q$name\E(?:\s|$)} }
		    split /\n/, slurp($file);
		return defined $line;
	}, $timeout);
	return $line;
}

sub field {
	my ($line, $key) = @_;
	return ($line // '') =~ /(?:^|\s)\Q$key\E=(\S*)/ ? $1 : undef;
}

sub short { (my $s = shift // '') =~ s{\Q$dir\E/}{}g; return $s }

my @summary;
my $ok = 1;

sub outcome {
	my ($n, $name, $want, $what) = @_;
	my $log = line_about($LOG, $name, 15);
	my $rec = line_about($RECORDS, $name, 15);
	print '   log line:        ', short($log // '(none came)'), "\n";
	print '   shutdown record: ', short($rec // '(none came)'), "\n";
	my $st = field($rec, 'name') // 'MISSING';
	my $num = field($rec, 'status') // '?';
	my $logst = field($log, 'status') // 'MISSING';
	my $good = $st eq $want && $logst eq $want;
	$ok &&= $good;
	printf "   => %s (%s): %s\n", $st, $num,
	    $good ? $what : "UNEXPECTED: wanted $want (log says $logst)";
	push @summary, sprintf("  %-11s %-8s (%s)  %s", $name, $st, $num,
	    $good ? $what : "UNEXPECTED, wanted $want");
	print "\n";
}

my $base = "http://127.0.0.1:$PORT/cgi-bin";

print "\n1. quick.cgi -- a quick page (default policy)\n";
print "   \$ curl $base/quick.cgi\n";
my $r = curl_get("$base/quick.cgi", max_time => 10);
printf "   HTTP %s after %.2f s:\n", $r->{code}, $r->{elapsed};
print map { "     | $_\n" } split /\n/, $r->{body};
outcome(1, 'quick.cgi', 'NORMAL', 'served; the shutdown command ran with '
    . 'status 0');

print "2. report.cgi -- a slow report (4 s) with ignore_user_abort = true;\n"
    . "   the client gives up after 1 s\n";
print "   \$ curl --max-time 1 $base/report.cgi\n";
$r = curl_get("$base/report.cgi", max_time => 1);
my $left = time;
printf "   the client left after %.2f s (curl exit %d), having received:\n",
    $r->{elapsed}, $r->{rc};
print map { "     | $_\n" } split /\n/, $r->{body};
print "   ... the report keeps working without its client ...\n";
my $report = "$dir/var/report.txt";
my $finished = wait_for(sub { -s $report }, 15);
my $work = slurp($report);
chomp $work;
if ($finished) {
	printf "   report.txt written %.1f s after the client left: %s\n",
	    time - $left, $work;
} else {
	print "   report.txt was NOT written\n";
	$ok = 0;
}
outcome(2, 'report.cgi', 'ABORTED', $finished
    ? 'the client left, and the report finished its work anyway'
    : 'the client left, but the report did NOT finish its work');
$ok &&= $finished;

print "3. hung.cgi -- never answers; max_execution_time = 2s\n";
print "   \$ curl $base/hung.cgi\n";
$r = curl_get("$base/hung.cgi", max_time => 15);
printf "   HTTP %s after %.2f s: %s\n", $r->{code}, $r->{elapsed},
    $r->{body} =~ s/\s+\z//r;
outcome(3, 'hung.cgi', 'TIMEOUT', 'stopped by its time limit, the client '
    . "got $r->{code}");

print "Summary\n", map { "$_\n" } @summary;
print "\n";

unless ($ok) {
	print "demo: an outcome was not the expected one; error log:\n",
	    $srv->error_log;
	$ENV{CGIWRAP_KEEP_TMP} = 1;	# keep the directory to look at
	exit 1;
}
exit 0 unless $KEEP;

# ---------------------------------------------------------------------------
# Keep serving, and show each request as it ends.

print <<"EOF";
Apache keeps serving until Ctrl-C.  Try:
  curl $base/quick.cgi
  curl --max-time 1 $base/report.cgi
  curl $base/hung.cgi
Each request ends with a log line and a record; they show up here.
EOF
my %seen = (log => scalar(() = slurp($LOG) =~ /\n/g),
    rec => scalar(() = slurp($RECORDS) =~ /\n/g));
while (1) {
	for my $k (qw(log rec)) {
		my @lines = split /\n/, slurp($k eq 'log' ? $LOG : $RECORDS);
		for my $l (@lines[$seen{$k} .. $#lines]) {
			print $k eq 'log' ? '  log:    ' : '  record: ', short($l),
			    "\n";
		}
		$seen{$k} = @lines;
	}
	fail('Apache stopped') if waitpid($srv->pid, POSIX::WNOHANG()) > 0;
	sleep 0.2;
}
