#!/usr/bin/perl
# Everything of fastcgi.t with cgiwrap on a TCP socket (-s 127.0.0.1:PORT,
# nginx: fastcgi_pass 127.0.0.1:PORT) instead of a unix socket.
use strict;
use warnings;
use FindBin;

our $KIND = 'tcp';
my $file = "$FindBin::Bin/fastcgi.t";
unless (defined do $file) {
	die "$file: $@" if $@;
	die "$file: $!" if $!;
}
