package run

import (
	"fmt"

	"github.com/kernel-harness/harness/harness/scenario"
)

// shardCases keeps the cases of o.Shard (all without one). A shard left
// with nothing is refused: a CI job that tests nothing must not pass.
func shardCases(o Options, cases []scenario.Case) (kept []scenario.Case, note string, err error) {
	if o.Shard.N == 0 || len(cases) == 0 {
		return cases, "", nil
	}
	part := o.Shard.Cases(cases)
	if len(part) == 0 {
		return nil, "", fmt.Errorf("--shard %s: no cases: the plan has fewer than %d scenarios; use fewer shards", o.Shard, o.Shard.I)
	}
	return part, fmt.Sprintf("plan: shard %s: %d of %d cases", o.Shard, len(part), len(cases)), nil
}
