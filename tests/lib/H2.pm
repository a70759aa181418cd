package H2;

# A minimal HTTP/2 client for the tests: cleartext with prior knowledge
# (h2c), literal HPACK fields, no flow control (the tests read little).
#
#   my $s = h2_open($port, '/cgi-bin/silent?id=x');	# stream 1, GET
#   my $f = frame_until($s, 5, sub { $_[0][0] == H2_PING });
#   syswrite($s, h2_frame(H2_RST_STREAM, 0, 1, pack('N', H2_CANCEL)));
#
# A frame read is [type, flags, stream, payload].

use strict;
use warnings;
use Exporter qw(import);
use IO::Select;
use IO::Socket::INET;
use Time::HiRes qw(time);

use constant {
	H2_DATA => 0, H2_HEADERS => 1, H2_RST_STREAM => 3, H2_SETTINGS => 4,
	H2_PING => 6, H2_GOAWAY => 7, H2_END_STREAM => 0x1, H2_ACK => 0x1,
	H2_END_HEADERS => 0x4, H2_CANCEL => 0x8,
};

our @EXPORT_OK = qw(h2_open h2_frame read_frame frame_until H2_DATA
    H2_HEADERS H2_RST_STREAM H2_SETTINGS H2_PING H2_GOAWAY H2_END_STREAM
    H2_ACK H2_END_HEADERS H2_CANCEL);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

sub h2_frame {
	my ($type, $flags, $stream, $payload) = @_;
	my $n = length $payload;
	return pack('CnCCN', $n >> 16, $n & 0xffff, $type, $flags, $stream)
	    . $payload;
}

# An HPACK "literal header field without indexing, new name".
sub literal {
	my ($name, $value) = @_;
	return pack('CC/a*C/a*', 0, $name, $value);
}

# The next frame on S as [type, flags, stream, payload], or undef at end
# of file or after TIMEOUT.
sub read_frame {
	my ($s, $timeout) = @_;
	my $buf = '';
	my $deadline = time + $timeout;
	my $want = 9;
	while (length $buf < $want) {
		my $left = $deadline - time;
		return undef if $left <= 0
		    || !IO::Select->new($s)->can_read($left);
		my $n = sysread($s, $buf, $want - length $buf, length $buf);
		return undef unless $n;
		next unless length $buf == 9 && $want == 9;
		my ($hi, $lo) = unpack('Cn', $buf);
		$want += $hi << 16 | $lo;
	}
	my ($type, $flags, $stream) = unpack('x3CCN', $buf);
	return [$type, $flags, $stream & 0x7fffffff, substr($buf, 9)];
}

# Frames on S until one for which WANT is true (returned), answering the
# server's SETTINGS; undef when none came within TIMEOUT.
sub frame_until {
	my ($s, $timeout, $want) = @_;
	my $deadline = time + $timeout;
	while (my $f = read_frame($s, $deadline - time)) {
		syswrite($s, h2_frame(H2_SETTINGS, H2_ACK, 0, ''))
		    if $f->[0] == H2_SETTINGS && !($f->[1] & H2_ACK);
		return $f if $want->($f);
	}
	return undef;
}

# A stream asking for PATH on 127.0.0.1:PORT, sent; the socket.
sub h2_open {
	my ($port, $path) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp', Timeout => 5)
	    or die "connect: $!";
	syswrite($s, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	    . h2_frame(H2_SETTINGS, 0, 0, '') . h2_frame(H2_HEADERS,
	    H2_END_STREAM | H2_END_HEADERS, 1, literal(':method', 'GET')
	    . literal(':scheme', 'http') . literal(':path', $path)
	    . literal(':authority', 'localhost')));
	return $s;
}

1;
