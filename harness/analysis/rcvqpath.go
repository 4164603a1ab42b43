package analysis

import "github.com/kernel-harness/harness/harness/wire"

// RcvqPath names the path of an enqueue RCVQ callback k as the checks do,
// given the send of the step it belongs to (the step whose poll follows
// it) and whether that step is the first: the report draws the same path
// the rcvq-path check judged.
func RcvqPath(k, send wire.Event, first bool) string { return enqueuePath(k, send, first) }
