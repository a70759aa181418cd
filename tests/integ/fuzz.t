#!/usr/bin/perl
# The libFuzzer harnesses of tests/fuzz (issue 6): build them (make
# fuzz-build, clang with AddressSanitizer and UndefinedBehaviorSanitizer),
# run every input kept in tests/fuzz/regress/TARGET once, then each fuzzer
# for a few seconds (CGIWRAP_FUZZ_SECONDS, default 8; about 10 s of wall
# time each) from its seed corpus; with CGIWRAP_FUZZ_SECONDS=0 the seeds
# are only run once each.  A crash, a leak, a sanitizer report, a failed check of a
# harness or a hang fails the test; the input that did it is shown in
# base64 to be kept as a regression input.  Everything the runs write
# (the grown corpus, crash inputs, the config harness's file) stays in a
# temporary directory removed at the end; the fuzzers themselves are
# built in build/fuzz like any other build product.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use MIME::Base64 qw(encode_base64);
use Test::More;
use Time::HiRes qw(time);
use Bounded qw(run_bounded in_path slurp);

my $TOP = abs_path("$FindBin::Bin/../..");
my $SECONDS = $ENV{CGIWRAP_FUZZ_SECONDS} // 8;
my @TARGETS = qw(cgihdr control values config handler);
my $CC = $ENV{FUZZ_CC} || 'clang';
my $BIN = "$TOP/build/fuzz";		# FUZZ_O of tests/fuzz/fuzz.mk

plan skip_all => "$CC not found: the fuzzers need clang with libFuzzer " .
    '(make deps installs it)' unless in_path($CC);

my $TMP = tempdir('cgiwrap-fuzz.XXXXXX', TMPDIR => 1, CLEANUP => 1);

# Run a command in $TMP, output to $log, killed past $limit seconds
# (Bounded::run_bounded).
sub run_logged {
	my ($log, $limit, $env, @cmd) = @_;
	return run_bounded(dir => $TMP, out => $log, limit => $limit,
	    env => $env, cmd => \@cmd);
}

# The sanitizers report on stderr, into the log, whatever the suite set
# for the program under test (tests/run.sh sends its reports to files).
my %FUZZENV = (
	TMPDIR => $TMP,
	ASAN_OPTIONS => 'detect_leaks=1:print_summary=1',
	UBSAN_OPTIONS => 'print_stacktrace=1:halt_on_error=1',
	LSAN_OPTIONS => undef,
	FUZZ_VERBOSE => undef,
);

# The lines of a fuzzer's log that report a problem.
sub problems {
	my ($text) = @_;
	return grep {
		/ERROR: (?:AddressSanitizer|LeakSanitizer|libFuzzer)/ ||
		/runtime error:|UndefinedBehaviorSanitizer|check failed:/ ||
		/^SUMMARY: /
	} split(/\n/, $text);
}

# Explain a failed run: what was reported, the end of the log, and the
# inputs libFuzzer kept (crash-*, leak-*, timeout-*, oom-*).
sub show_failure {
	my ($t, $text, $artdir) = @_;
	my @lines = split(/\n/, $text);
	diag("reported: $_") for problems($text);
	diag('end of the log:');
	diag("  $_") for @lines[($#lines > 30 ? $#lines - 30 : 0) .. $#lines];
	for my $f (glob("$artdir/*")) {
		next unless -f $f;
		my $in = slurp($f);
		my $name = $f =~ s{.*/}{}r;
		if (length($in) <= 8192) {
			diag("input $name (" . length($in) . ' bytes), keep it '
			    . "with: base64 -d > tests/fuzz/regress/$t/NAME <<'EOF'");
			diag($_) for split(/\n/, encode_base64($in));
			diag('EOF');
		} else {
			diag("input $name: " . length($in) . ' bytes, too long '
			    . 'to show; rerun make fuzz to keep it');
		}
	}
}

# Build: the fuzz rules only, with the warnings of the Makefile.
{
	local %ENV = %ENV;
	delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};
	my $log = "$TMP/build.log";
	my $st = run_logged($log, 600, {}, 'make', '-C', $TOP,
	    '--no-print-directory', 'fuzz-build');
	if (!ok($st == 0, 'make fuzz-build')) {
		diag(slurp($log));
		done_testing();
		exit;
	}
}

my $t0 = time;
for my $t (@TARGETS) {
	my $bin = "$BIN/fuzz_$t";
	my $dict = "$TOP/tests/fuzz/$t.dict";
	my $seeds = "$TOP/tests/fuzz/corpus/$t";
	my $regress = "$TOP/tests/fuzz/regress/$t";
	my @regress = grep { -f $_ } glob("$regress/*");
	my $art = "$TMP/$t/artifacts";
	my $corpus = "$TMP/$t/corpus";

	mkdir "$TMP/$t" and mkdir $art and mkdir $corpus
	    or die "mkdir $TMP/$t: $!";
	my @seeds = grep { -f $_ } glob("$seeds/*");
	ok(@seeds > 0, "fuzz_$t has a seed corpus (" . @seeds . ' inputs)');

	# Only a fuzzer that once found something keeps regression inputs.
	if (@regress) {
		my $log = "$TMP/$t/regress.log";
		my $st = run_logged($log, 60, \%FUZZENV, $bin,
		    '-timeout=10', "-artifact_prefix=$art/", @regress);
		my $text = slurp($log);
		ok($st == 0 && !problems($text),
		    "fuzz_$t: the " . @regress . ' regression input(s) pass')
		    or show_failure($t, $text, $art);
	}

	my $log = "$TMP/$t/fuzz.log";
	my $start = time;
	my $st = run_logged($log, $SECONDS + 60, \%FUZZENV, $bin,
	    ($SECONDS > 0 ? "-max_total_time=$SECONDS" : '-runs=0'),
	    '-timeout=10',
	    '-print_final_stats=1', "-artifact_prefix=$art/",
	    (-f $dict ? ("-dict=$dict") : ()),
	    $corpus, $seeds, (-d $regress ? $regress : ()));
	my $text = slurp($log);
	my ($runs) = $text =~ /stat::number_of_executed_units:\s*(\d+)/;
	my ($cov) = $text =~ /.*\bcov: (\d+)/s;
	ok($st == 0 && !problems($text) && defined $runs,
	    sprintf('fuzz_%s clean for %s s (%s runs, %s edges)', $t,
	    $SECONDS, $runs // '?', $cov // '?'))
	    or do {
		diag($st == -1 ? "fuzz_$t did not end in time, killed" :
		    "fuzz_$t exit status " . ($st >> 8) . ', signal ' .
		    ($st & 127));
		show_failure($t, $text, $art);
	};
	note(sprintf('fuzz_%s took %.1f s', $t, time - $start));
}
note(sprintf('all fuzzers: %.1f s', time - $t0));

done_testing();
