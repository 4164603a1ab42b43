package guest

import (
	"strings"
	"testing"
)

const netstatSample = `TcpExt: SyncookiesSent TCPOFOQueue TCPOFOMerge TCPFastOpenPassive
TcpExt: 0 3 1 0
IpExt: InNoRoutes InOctets
IpExt: 0 1234
`

func TestParseCounters(t *testing.T) {
	c := Counters{}
	if err := parseCounters(strings.NewReader(netstatSample), c); err != nil {
		t.Fatal(err)
	}
	if c["TcpExtTCPOFOQueue"] != 3 || c["TcpExtTCPOFOMerge"] != 1 || c["IpExtInOctets"] != 1234 {
		t.Fatalf("%v", c)
	}
	after := Counters{"TcpExtTCPOFOQueue": 5, "TcpExtTCPOFOMerge": 1, "TcpExtTCPFastOpenPassive": 1}
	d := after.Delta(c)
	if len(d) != 2 || d["TcpExtTCPOFOQueue"] != 2 || d["TcpExtTCPFastOpenPassive"] != 1 {
		t.Fatalf("delta %v", d)
	}
}

func TestParseCountersMalformed(t *testing.T) {
	for _, in := range []string{
		"TcpExt: A B\n",
		"TcpExt: A B\nTcpExt: 1\n",
		"TcpExt: A\nTcpExt: x\n",
		"TcpExt: A\nIpExt: 1\n",
	} {
		if err := parseCounters(strings.NewReader(in), Counters{}); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
