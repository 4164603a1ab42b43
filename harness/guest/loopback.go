package guest

import (
	"golang.org/x/sys/unix"

	"github.com/kernel-harness/harness/harness/scenario"
)

// loopbackTraffic runs a scenario over loopback: the writer's socket and
// the accepted reader, the stream cut into the scenario's writes.
func (r *caseRun) loopbackTraffic() error {
	conn, err := dial(r.c.Family, r.timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	stream := r.c.Scenario.Stream()
	send := func(g scenario.Segment) error {
		return writeAll(conn.writer, stream[g.Offset:g.Offset+g.Len])
	}
	if r.c.Scenario.Scripted() {
		return r.script(conn.reader, false, send)
	}
	return r.traffic(conn.reader, true, send)
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}
