#!/usr/bin/perl
# The documents: the manual pages are clean mdoc, the sample config is
# valid, holds the built-in defaults and shows every option, and both
# pages name every option, flag and CGIWRAP_* variable the code has.
# The project stands alone: no file outside tests/ names a document that
# is not in it; the systemd unit runs the binary where the README installs
# it; a usage error starts with "cgiwrap: "; the log notes of cgiwrap.8
# are what a real run writes.

use strict;
use warnings;
use FindBin;
use Cwd qw(abs_path);
use File::Find qw(find);
use File::Temp qw(tempdir);
use Test::More;
use Time::HiRes qw(time sleep);
use lib "$FindBin::Bin/../lib";
use Harness qw(T wait_for slurp slurp_or_undef);

my $TOP = abs_path("$FindBin::Bin/../..");
my $BIN = $ENV{CGIWRAP} || "$TOP/cgiwrap";
my $MAN8 = "$TOP/man/cgiwrap.8";
my $MAN5 = "$TOP/man/cgiwrap.conf.5";
my $SAMPLE = "$TOP/etc/cgiwrap.conf";
my $TMP = tempdir('cgiwrap-docs.XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub write_conf {
	my ($name, $text) = @_;
	my $path = "$TMP/$name";
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
	chmod 0644, $path or die "chmod $path: $!";
	return $path;
}

# Output (stdout and stderr together) and exit status of a command.
sub run {
	my @cmd = @_;
	my $pid = open(my $fh, '-|') // die "fork: $!";
	if ($pid == 0) {
		open(STDERR, '>&', \*STDOUT) or die "dup: $!";
		open(STDIN, '<', '/dev/null') or die "/dev/null: $!";
		# Not a CGI request: no ISINDEX words, no CGIWRAP_CONFIG.
		delete @ENV{qw(GATEWAY_INTERFACE QUERY_STRING CGIWRAP_CONFIG)};
		exec { $cmd[0] } @cmd or die "exec $cmd[0]: $!";
	}
	local $/;
	my $out = <$fh> // '';
	close $fh;
	return ($out, $? >> 8);
}

# "name = value" of every setting from "cgiwrap -e", origins cut off.
sub settings {
	my ($conf) = @_;
	my ($out, $rc) = run($BIN, '-e', '/nonexistent/x.cgi', '-c', $conf);
	return () if $rc != 0;
	my %set;
	for (split /\n/, $out) {
		next if /^#/ || /^shutdown /;
		$set{$1} = $2 if /^(\w+) = (.*?)  # /;
	}
	return %set;
}

ok(-x $BIN, "cgiwrap binary at $BIN") or BAIL_OUT('run make first');
for my $f ($MAN8, $MAN5, $SAMPLE) {
	ok(-f $f, "$f exists") or BAIL_OUT("$f missing");
}

# 1. mandoc -Tlint -W warning: silent and exit 0.
SKIP: {
	my $mandoc = (grep { -x "$_/mandoc" } split /:/, $ENV{PATH} // '')[0];
	skip('mandoc not installed (tests/deps.sh installs it)', 4)
	    unless defined $mandoc;
	for my $page ($MAN8, $MAN5) {
		my ($out, $rc) = run("$mandoc/mandoc", '-Tlint', '-W', 'warning',
		    $page);
		is($rc, 0, "mandoc -Tlint -W warning $page: exit 0");
		is($out, '', "mandoc -Tlint -W warning $page: no output");
	}
}

# 2. The sample config is valid.  Tested as a 0644 copy: -t writes its
# cache beside the file it checks, and the clone's umask may have made
# the file group- or world-writable, which cgiwrap rightly refuses.
my $text = slurp($SAMPLE);
my $sample = write_conf('sample.conf', $text);
{
	my ($out, $rc) = run($BIN, '-t', '-c', $sample);
	is($out, "syntax ok\n", 'cgiwrap -t -c etc/cgiwrap.conf: syntax ok');
	is($rc, 0, 'cgiwrap -t -c etc/cgiwrap.conf: exit 0');
}

# Its commented-out examples ("#word", "#<tab>...") are valid too.
{
	(my $uncommented = $text) =~ s/^#(?=[^ \n])//mg;
	ok($uncommented ne $text, 'the sample has commented-out examples');
	ok($uncommented =~ /^script "[^"]+" \{/m, 'an example script section');
	ok($uncommented =~ /^shutdown "[^"]+" \{/m,
	    'an example shutdown section');
	ok($uncommented =~ /^\tshutdown "[^"]+" \{/m,
	    'an example shutdown section in a script section');
	my $path = write_conf('examples.conf', $uncommented);
	my ($out, $rc) = run($BIN, '-t', '-c', $path);
	is($out, "syntax ok\n", 'the sample with its examples uncommented: '
	    . 'syntax ok');
}

# 3. Every option the config accepts.  The settings come from "cgiwrap -e",
# which prints every one; the sections and their options from the
# libconfuse schema in src/config.c.
my %default = settings(write_conf('empty.conf', ''));
my @options = sort keys %default;
cmp_ok(scalar(@options), '>=', 20, 'cgiwrap -e lists the settings')
    or diag(join(' ', @options));
my %opt = map { $_ => 1 } @options;
my $src = slurp("$TOP/src/config.c");
$opt{$1} = 1 while $src =~ /\bCFG_(?:STR|STR_LIST|BOOL|INT|SEC)\(\s*"(\w+)"/g;
$opt{$1} = 1 while $src =~ /\bSETTING\(\s*OPT_\w+\s*,\s*(\w+)/g;
$opt{$1} = 1 while $src =~ /\bSETTING_AS\(\s*OPT_\w+\s*,\s*"(\w+)"/g;
for my $must (qw(roots log script shutdown command timeout when)) {
	ok($opt{$must}, "option list has $must");
}

my $man5 = slurp($MAN5);
my $man8 = slurp($MAN8);
for my $name (sort keys %opt) {
	# An item of its own, or a section in a display: 'name "title" {'.
	ok($man5 =~ /^(?:\.It Ic \Q$name\E\b|\Q$name\E "[^"]*" \{)/m,
	    "cgiwrap.conf.5 documents $name");
	ok($text =~ /^#?[ \t]*\Q$name\E[ \t]*(?:\+?=|"|\{)/m,
	    "etc/cgiwrap.conf shows $name");
}

# The sample's active settings are the built-in defaults, as it says.
{
	my %sample = settings($sample);
	is_deeply(\%sample, \%default,
	    'etc/cgiwrap.conf sets every setting to its default');
}

# 4. cgiwrap.8 shows every flag of the usage message and every CGIWRAP_*
# variable the code sets or reads.
{
	my ($usage) = run($BIN, '-h');
	my %flag = map { $_ => 1 } $usage =~ /(?<![\w-])-(\w)\b/g;
	cmp_ok(scalar(keys %flag), '>=', 5, 'cgiwrap -h lists the flags')
	    or diag($usage);
	my ($synopsis) = $man8 =~ /^\.Sh SYNOPSIS\n(.*?)^\.Sh /ms;
	for my $f (sort keys %flag) {
		ok(($synopsis // '') =~ /\bFl (?:\S+ \| )?\Q$f\E\b/,
		    "cgiwrap.8 SYNOPSIS has -$f");
		ok($man8 =~ /^\.It Fl \Q$f\E\b/m, "cgiwrap.8 describes -$f");
	}
	my %var;
	for my $c (glob("$TOP/cgiwrap.c $TOP/src/*.c")) {
		my $s = slurp_or_undef($c) // next;
		$var{$1} = 1 while $s =~ /"(CGIWRAP_[A-Z_]+)"/g;
	}
	cmp_ok(scalar(keys %var), '>=', 10, 'CGIWRAP_* variables in the code');
	my ($env) = $man8 =~ /^\.Sh ENVIRONMENT\n(.*?)^\.Sh /ms;
	for my $v (sort keys %var) {
		ok(($env // '') =~ /^\.It Ev \Q$v\E\b/m,
		    "cgiwrap.8 ENVIRONMENT has $v");
	}
}

# 5. The sections the brief of the pages requires, in mdoc order.
{
	my @want8 = ('NAME', 'SYNOPSIS', 'DESCRIPTION', 'ENVIRONMENT', 'FILES',
	    'EXIT STATUS', 'EXAMPLES', 'DIAGNOSTICS', 'SEE ALSO', 'STANDARDS',
	    'CAVEATS', 'SECURITY');
	my @have8 = $man8 =~ /^\.Sh (.+)$/mg;
	is_deeply(\@have8, \@want8, 'cgiwrap.8 sections');
	my @have5 = $man5 =~ /^\.Sh (.+)$/mg;
	is_deeply(\@have5, ['NAME', 'DESCRIPTION', 'FILES', 'EXAMPLES',
	    'DIAGNOSTICS', 'SEE ALSO'], 'cgiwrap.conf.5 sections');
}

# The example config of cgiwrap.conf.5 is valid.
{
	my ($ex) = $man5 =~ /^\.Sh EXAMPLES\n.*?^\.Bd -literal[^\n]*\n(.*?)^\.Ed$/ms;
	ok(defined $ex, 'cgiwrap.conf.5 has an example config');
	$ex =~ s/\\e/\\/g if defined $ex;
	my ($out) = run($BIN, '-t', '-c', write_conf('man5.conf', $ex // ''));
	is($out, "syntax ok\n", 'the example of cgiwrap.conf.5: syntax ok');
}

# 6. Nothing outside tests/ refers to a document the repository lacks.
{
	my @bad;
	find({ no_chdir => 1, wanted => sub {
		if (-d $_ && m{^\Q$TOP\E/(?:\.git|build|tests)\z}) {
			$File::Find::prune = 1;
			return;
		}
		return unless -f $_ && -T $_;
		my $text = slurp_or_undef($_) // return;
		push @bad, "$_: $1" while $text =~
		    /(SPEC\.md|\.\.\/shared|\bR-[A-Z]{2,}(?:-\d+)?\b)/g;
	} }, $TOP);
	is(join("\n", @bad), '', 'no file outside tests/ names SPEC.md, '
	    . '../shared or a requirement id');
}

# 7. The systemd unit runs the binary where the README installs it.
{
	my $readme = slurp("$TOP/README");
	my ($prefix) = $readme =~ /make install PREFIX=(\S+)/;
	ok(defined $prefix, 'the README installs with make install PREFIX=');
	my ($exec) = slurp("$TOP/etc/cgiwrap.service")
	    =~ /^ExecStart=(\S+)/m;
	is($exec, ($prefix // '') . '/bin/cgiwrap',
	    'etc/cgiwrap.service runs the binary the README installs');
}

# 8. Usage errors say who speaks, not the path cgiwrap was run by.
for my $args (['-q'], ['-c'], ['--'], ['-w', 'x']) {
	my ($out, $rc) = run($BIN, @$args);
	like($out, qr/\Acgiwrap: /, "cgiwrap @$args: starts with 'cgiwrap: '");
	is($rc, 125, "cgiwrap @$args: exit 125");
}

# 9. The log notes shown in cgiwrap.8 are those a real run writes: a
# program writes the example's bad control line, the example's shutdown
# command exits with its status.
{
	my $intro = 'Warnings, such as a refused control line';
	my ($ex) = $man8 =~ /^\Q$intro\E.*?^\.Bd -literal[^\n]*\n(.*?)^\.Ed$/ms;
	$ex //= '';
	$ex =~ s/\n  +/ /g;
	my @want = split /\n/, $ex;
	my ($bad) = $ex =~ /bad line '([^']*)'/;
	my ($name, $st) = $ex =~ /shutdown=(\w+) note="exited (\d+)"/;
	ok(defined $bad && defined $st, 'cgiwrap.8 shows a control note and '
	    . 'a shutdown note') or diag($ex);
	$bad //= 'x';
	$name //= 'x';
	$st //= 1;
	my $prog = "$TMP/report.cgi";
	my $log = "$TMP/notes.log";
	write_conf('report.cgi', "#!/bin/sh\necho '$bad' >&\$CGIWRAP_CONTROL_FD\n"
	    . "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
	chmod 0755, $prog or die "chmod $prog: $!";
	write_conf('audit.sh', "#!/bin/sh\nexit $st\n");
	chmod 0755, "$TMP/audit.sh" or die "chmod: $!";
	my $conf = write_conf('notes.conf', "log = \"$log\"\n"
	    . "shutdown \"$name\" { command = {\"$TMP/audit.sh\"} }\n");
	my ($out, $rc) = run($BIN, '-c', $conf, '--', $prog);
	is($rc, 0, 'the example program ran') or diag($out);
	wait_for(sub { slurp($log) =~ /shutdown=/ }, T(10));
	my @got = grep { /note=/ } split /\n/, slurp($log);
	my ($ex_time, $ex_prog) = ('2025-01-31T09:30:00.123Z',
	    '/usr/lib/cgi-bin/report.cgi');
	my $when = qr/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;
	s/^$when target=\Q$prog\E /$ex_time target=$ex_prog /,
	    s/ pid=\d+ / pid=4242 / for @got;
	is_deeply(\@got, \@want, 'the notes of cgiwrap.8 are those cgiwrap '
	    . 'writes') or diag(join("\n", 'got:', @got, 'want:', @want));
}

done_testing();
