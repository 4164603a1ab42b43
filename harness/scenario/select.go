package scenario

import (
	"fmt"
	"regexp"
)

// LoadAll is the built-in scenarios and those of files, loaded and
// checked once, each name taken once; sources names, for each file, the
// scenarios it holds.
func LoadAll(files []string) (all []Scenario, sources map[string][]string, err error) {
	all = All()
	taken := map[string]bool{}
	for _, sc := range all {
		if err := sc.Validate(); err != nil {
			return nil, nil, fmt.Errorf("built-in %w", err)
		}
		taken[sc.Name] = true
	}
	sources = map[string][]string{}
	for _, f := range files {
		more, err := LoadFile(f, taken)
		if err != nil {
			return nil, nil, err
		}
		for _, sc := range more {
			sources[f] = append(sources[f], sc.Name)
		}
		all = append(all, more...)
	}
	return all, sources, nil
}

// Select expands the scenarios whose name matches pattern (all when it is
// empty) into cases; none is an error.
func Select(all []Scenario, pattern string) ([]Case, error) {
	var filter *regexp.Regexp
	if pattern != "" {
		var err error
		if filter, err = regexp.Compile(pattern); err != nil {
			return nil, fmt.Errorf("--scenario: %w", err)
		}
	}
	cases := Expand(all, filter)
	if len(cases) == 0 {
		return nil, fmt.Errorf("no scenario matches --scenario %q", pattern)
	}
	return cases, nil
}
