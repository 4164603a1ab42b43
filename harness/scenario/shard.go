package scenario

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is one part of a run split over CI jobs: --shard I/N keeps the
// I-th of N parts. The zero Shard keeps everything.
//
// A shard is a set of scenarios, not of cases: the scenarios that have
// cases in the plan, in the plan's stable order, go round-robin to the
// shards (the k-th, counting from 0, to shard k mod N + 1). A scenario's
// families and modes stay together, so that --baseline can still line up
// a scenario's baseline mode on the base with its autolowat mode on the
// series, and a failing scenario is seen whole in one job.
type Shard struct{ I, N int }

// ParseShard reads "I/N" with 1 <= I <= N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("--shard %q: want I/N, as 1/4 for the first of four shards", s)
	}
	si, err1 := strconv.Atoi(strings.TrimSpace(i))
	sn, err2 := strconv.Atoi(strings.TrimSpace(n))
	switch {
	case err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("--shard %q: want I/N with whole numbers, as 1/4 for the first of four shards", s)
	case sn < 1:
		return Shard{}, fmt.Errorf("--shard %q: N, the number of shards, must be 1 or more", s)
	case si < 1 || si > sn:
		return Shard{}, fmt.Errorf("--shard %q: I counts from 1 to N=%d", s, sn)
	}
	return Shard{I: si, N: sn}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// Cases keeps the cases of this shard's scenarios, in their order.
func (s Shard) Cases(cases []Case) []Case {
	if s.N <= 1 {
		return cases
	}
	index := map[string]int{} // scenario name -> its place among the plan's scenarios
	var out []Case
	for _, c := range cases {
		k, ok := index[c.Scenario.Name]
		if !ok {
			k = len(index)
			index[c.Scenario.Name] = k
		}
		if k%s.N == s.I-1 {
			out = append(out, c)
		}
	}
	return out
}
