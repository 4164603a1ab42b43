package run

import (
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/scenario"
)

func TestShardCases(t *testing.T) {
	cases := scenario.Expand([]scenario.Scenario{{Name: "a"}, {Name: "b"}}, nil)
	got, _, err := shardCases(Options{}, cases)
	if err != nil || len(got) != len(cases) {
		t.Fatalf("no shard: %d of %d cases, %v", len(got), len(cases), err)
	}
	got, _, err = shardCases(Options{Shard: scenario.Shard{I: 2, N: 2}}, cases)
	if err != nil || len(got) == 0 || got[0].Scenario.Name != "b" {
		t.Fatalf("shard 2/2: %v, %v", got, err)
	}
	_, _, err = shardCases(Options{Shard: scenario.Shard{I: 3, N: 3}}, cases)
	if err == nil || !strings.Contains(err.Error(), "--shard 3/3: no cases") {
		t.Fatalf("an empty shard gave %v, want an error", err)
	}
}
