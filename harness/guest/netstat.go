package guest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Counters read from /proc/net/netstat and /proc/net/snmp prove which
// kernel path a scenario's data took: TCPOFOQueue for out-of-order,
// TCPFastOpenPassive for Fast Open, and so on.
type Counters map[string]int64

// readCounters reads the counters of the calling thread's network
// namespace. /proc/net follows the process's first thread, so the
// thread's own view is under /proc/thread-self.
func readCounters() (Counters, error) {
	c := Counters{}
	for _, f := range []string{"/proc/thread-self/net/netstat", "/proc/thread-self/net/snmp"} {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("counters: %w", err)
		}
		err = parseCounters(fh, c)
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("counters %s: %w", f, err)
		}
	}
	return c, nil
}

// parseCounters reads the "Prefix: Name Name ..." / "Prefix: 1 2 ..."
// line pairs of /proc/net/netstat and /proc/net/snmp.
func parseCounters(r io.Reader, into Counters) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		names := strings.Fields(sc.Text())
		if !sc.Scan() {
			return fmt.Errorf("%s: header without values", strings.TrimSuffix(names[0], ":"))
		}
		values := strings.Fields(sc.Text())
		if len(names) != len(values) || len(names) == 0 || names[0] != values[0] {
			return fmt.Errorf("%s: %d names but %d values", names[0], len(names), len(values))
		}
		prefix := strings.TrimSuffix(names[0], ":")
		for i := 1; i < len(names); i++ {
			v, err := strconv.ParseInt(values[i], 10, 64)
			if err != nil {
				return fmt.Errorf("%s%s: %w", prefix, names[i], err)
			}
			into[prefix+names[i]] = v
		}
	}
	return sc.Err()
}

// Delta returns the counters that changed from before to c.
func (c Counters) Delta(before Counters) map[string]int64 {
	d := map[string]int64{}
	for k, v := range c {
		if n := v - before[k]; n != 0 {
			d[k] = n
		}
	}
	return d
}
