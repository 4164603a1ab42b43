package analysis

import (
	"fmt"

	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/scenario"
	"github.com/kernel-harness/harness/harness/wire"
)

// ending is what the guest saw after the last step: the poll right after
// the writer closed, how the reader settled, and how the scenario's
// other connections ended.
type ending struct {
	closePoll, settle, others *wire.Event
}

func endingOf(evs []wire.Event) ending {
	var e ending
	for i := range evs {
		switch {
		case evs[i].Kind == wire.Poll && evs[i].Value == "close":
			e.closePoll = &evs[i]
		case evs[i].Kind == wire.Settle:
			e.settle = &evs[i]
		case evs[i].Kind == wire.Others:
			e.others = &evs[i]
		}
	}
	return e
}

// checkLiveness makes the checks every case gets: no-stall, the reader
// not left asleep with bytes it could be handed (after the last step,
// every byte sent is read, each wake-up within the stall bound, and the
// peer's FIN or RST seen); and, when the writer closes, woken-on-close:
// the close wakes the reader at once whatever SO_RCVLOWAT says, as
// tcp_poll() makes a socket whose peer shut down readable.
func checkLiveness(s scenario.Scenario, end ending, read int) []report.Check {
	want := map[string]string{"": "drained", scenario.CloseFIN: "eof", scenario.CloseRST: "reset"}[s.Closes()]
	words := map[string]string{"drained": "every byte read", "eof": "every byte read, then the end of the stream",
		"reset": "every byte read, then the reset"}
	stall := report.Check{Name: "no-stall", Want: fmt.Sprintf("%s (%d bytes), each wake-up within the stall bound", words[want], s.SentLen())}
	switch st := end.settle; {
	case st == nil:
		stall.Got = "the guest did not report how the reader ended"
	case st.Value == "stalled":
		stall.Got = fmt.Sprintf("the reader was not woken with %d bytes queued (SO_RCVLOWAT %d) and %d of %d unread", st.Queued, st.Lowat, st.Bytes, s.SentLen())
		stall.Detail = "a reader asleep in epoll_wait with bytes the kernel could hand it"
	case st.Value != want:
		stall.Got = fmt.Sprintf("ended with %s, %d of %d bytes read", st.Value, read, s.SentLen())
	case read != s.SentLen():
		stall.Got = fmt.Sprintf("%s after %d of %d bytes", st.Value, read, s.SentLen())
	default:
		stall.Pass, stall.Got = true, words[want]
	}
	checks := []report.Check{stall}
	if n := s.Connections; n > 1 {
		others := report.Check{Name: "other-connections", Want: fmt.Sprintf("the %d other connections each read whole and intact, none left asleep", n-1)}
		switch o := end.others; {
		case o == nil:
			others.Got = "the guest did not report them"
		case o.Value != "ok":
			others.Got = o.Message
		case o.Bytes != (n-1)*s.SentLen():
			others.Got = fmt.Sprintf("%d bytes read by them, want %d", o.Bytes, (n-1)*s.SentLen())
		default:
			others.Pass, others.Got = true, fmt.Sprintf("%d connections, %d bytes each, intact", n-1, s.SentLen())
		}
		checks = append(checks, others)
	}
	if s.Closes() == "" {
		return checks
	}
	woken := report.Check{Name: "woken-on-close", Want: fmt.Sprintf("EPOLLIN at once after the %s, whatever SO_RCVLOWAT", s.Closes())}
	switch p := end.closePoll; {
	case p == nil:
		woken.Got = "the guest did not poll after the close"
	case p.Ready == 0:
		woken.Got = fmt.Sprintf("not ready, with %d bytes queued and SO_RCVLOWAT %d", p.Queued, p.Lowat)
		woken.Detail = "FIN and RST must wake the reader (tcp_poll: RCV_SHUTDOWN makes the socket readable)"
	default:
		woken.Pass, woken.Got = true, fmt.Sprintf("%s with %d bytes queued, SO_RCVLOWAT %d", p.Epoll, p.Queued, p.Lowat)
	}
	return append(checks, woken)
}

// wakeReason is why tcp_epollin_ready() let the kernel wake the reader
// besides rcvlowat, from the socket as the tracer saw it at the
// wake-up: memory pressure (tcp_rmem_pressure(): sk_rmem_alloc above
// 7/8 of sk_rcvbuf), a receive window down to one MSS, or the peer's
// shutdown. "" when there was none.
func wakeReason(e wire.Event) string {
	switch {
	case e.Shutdown&1 != 0: // RCV_SHUTDOWN; a change of state alone (the handshake's) is not one
		return "the peer closed"
	case e.Rcvbuf > 0 && e.RmemAlloc > e.Rcvbuf-e.Rcvbuf>>3:
		return fmt.Sprintf("memory pressure: sk_rmem_alloc %d above 7/8 of sk_rcvbuf %d (tcp_rmem_pressure)", e.RmemAlloc, e.Rcvbuf)
	case e.RcvMSS > 0 && e.Window <= e.RcvMSS:
		return fmt.Sprintf("receive window %d down to the MSS %d (tcp_epollin_ready)", e.Window, e.RcvMSS)
	}
	return ""
}

// explainedWakes are the steps after which the kernel woke the reader
// for a reason of its own (wakeReason), or at a rcvlowat that
// tcp_set_rcvlowat() capped below the frame (limit), with the first
// such reason.
func explainedWakes(steps []*step, limit int) map[int]string {
	out := map[int]string{}
	for i, st := range steps {
		for _, w := range st.wakes {
			why := wakeReason(w)
			if why == "" && limit > 0 && w.Lowat == limit {
				why = fmt.Sprintf("rcvlowat capped at %d, half of sk_rcvbuf or of tcp_rmem[2] (tcp_set_rcvlowat)", limit)
			}
			if why != "" {
				out[i+1] = why
				break
			}
		}
	}
	return out
}
