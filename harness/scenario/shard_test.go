package scenario

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		err  string // part of the error; empty: no error
	}{
		{in: "1/1", want: Shard{1, 1}},
		{in: "2/3", want: Shard{2, 3}},
		{in: "3/3", want: Shard{3, 3}},
		{in: "0/2", err: "I counts from 1 to N=2"},
		{in: "3/2", err: "I counts from 1 to N=2"},
		{in: "-1/2", err: "I counts from 1"},
		{in: "1/0", err: "number of shards, must be 1 or more"},
		{in: "x/y", err: "whole numbers"},
		{in: "1/", err: "whole numbers"},
		{in: "2", err: "want I/N"},
		{in: "", err: "want I/N"},
	} {
		got, err := ParseShard(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParseShard(%q): %v", tc.in, err)
		case tc.err == "" && got != tc.want:
			t.Errorf("ParseShard(%q) = %v, want %v", tc.in, got, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseShard(%q) error = %v, want one containing %q", tc.in, err, tc.err)
		}
	}
}

func caseIDs(cases []Case) []string {
	var ids []string
	for _, c := range cases {
		ids = append(ids, c.ID())
	}
	return ids
}

// The shards of a plan are disjoint, cover it, keep its order, and keep
// each scenario's cases together.
func TestShardCases(t *testing.T) {
	all := Expand(All(), nil)
	const n = 3
	seen := map[string]int{}          // case ID -> shard
	scenarioShard := map[string]int{} // scenario -> shard
	total := 0
	for i := 1; i <= n; i++ {
		part := Shard{I: i, N: n}.Cases(all)
		if len(part) == 0 {
			t.Fatalf("shard %d/%d is empty", i, n)
		}
		total += len(part)
		for _, c := range part {
			if j, ok := seen[c.ID()]; ok {
				t.Errorf("%s in shard %d and %d", c.ID(), j, i)
			}
			seen[c.ID()] = i
			if j, ok := scenarioShard[c.Scenario.Name]; ok && j != i {
				t.Errorf("scenario %s split over shards %d and %d", c.Scenario.Name, j, i)
			}
			scenarioShard[c.Scenario.Name] = i
		}
		// Order: the shard is a subsequence of the plan.
		at := 0
		for _, c := range part {
			for at < len(all) && all[at].ID() != c.ID() {
				at++
			}
			if at == len(all) {
				t.Fatalf("shard %d/%d is not in the plan's order: %v", i, n, caseIDs(part))
			}
		}
	}
	if total != len(all) {
		t.Errorf("shards hold %d cases, the plan %d", total, len(all))
	}
}

func TestShardRoundRobin(t *testing.T) {
	var scs []Scenario
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		scs = append(scs, Scenario{Name: name})
	}
	cases := Expand(scs, nil)
	var got []string
	for _, c := range (Shard{I: 2, N: 2}).Cases(cases) {
		if c.Family == IPv4 && c.Mode == Baseline {
			got = append(got, c.Scenario.Name)
		}
	}
	if want := []string{"b", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("shard 2/2 has scenarios %v, want %v", got, want)
	}
	if got := (Shard{}).Cases(cases); len(got) != len(cases) {
		t.Errorf("the zero shard kept %d of %d cases", len(got), len(cases))
	}
	if got := (Shard{I: 6, N: 6}).Cases(cases); len(got) != 0 {
		t.Errorf("shard 6/6 of five scenarios kept %v", caseIDs(got))
	}
}
