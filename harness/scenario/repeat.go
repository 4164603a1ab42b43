package scenario

import "strconv"

// RunID is a case ID with the repetition it belongs to: "id#run", or id
// itself when run is 0 (no --repeat).
func RunID(id string, run int) string {
	if run == 0 {
		return id
	}
	return id + "#" + strconv.Itoa(run)
}

// Repeat returns the cases n times over, numbered run 1 to n: all of
// them once, then all of them again, so that a repetition does not
// follow its own previous run directly. n <= 1 returns cases unchanged.
func Repeat(cases []Case, n int) []Case {
	if n <= 1 {
		return cases
	}
	out := make([]Case, 0, len(cases)*n)
	for run := 1; run <= n; run++ {
		for _, c := range cases {
			c.Run = run
			out = append(out, c)
		}
	}
	return out
}
