package guest

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/kernel-harness/harness/harness/scenario"
)

// loopbackTraffic runs a scenario over loopback: the writer's socket and
// the accepted reader, the stream cut into the scenario's writes.
func (r *caseRun) loopbackTraffic() error {
	conn, err := dial(r.c.Family, r.timeout, r.c.Scenario.RcvBuf)
	if err != nil {
		return err
	}
	defer conn.Close()
	stream := r.c.Scenario.Stream()
	var more *others
	if n := r.c.Scenario.Connections; n > 1 {
		if more, err = r.dialOthers(n - 1); err != nil {
			return err
		}
		defer more.Close()
	}
	send := func(g scenario.Segment) error {
		if err := writeAll(conn.writer, stream[g.Offset:g.Offset+g.Len]); err != nil {
			return err
		}
		if more != nil {
			return more.send(stream[g.Offset : g.Offset+g.Len])
		}
		return nil
	}
	end := func(how string) error {
		if more != nil {
			if err := more.end(how); err != nil {
				return err
			}
		}
		if how == scenario.CloseFIN {
			return unix.Shutdown(conn.writer, unix.SHUT_WR)
		}
		// SO_LINGER with a zero timeout: close() resets the connection.
		if err := unix.SetsockoptLinger(conn.writer, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
			return fmt.Errorf("SO_LINGER 0: %w", err)
		}
		fd := conn.writer
		conn.writer = -1
		return unix.Close(fd)
	}
	if r.c.Scenario.Scripted() {
		return r.script(conn.reader, false, send, end)
	}
	if err := r.traffic(conn.reader, true, send, end); err != nil {
		return err
	}
	if more != nil {
		more.settle()
	}
	return nil
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
