// Package ghactions speaks GitHub Actions' workflow commands when the
// harness runs as a step of a workflow: collapsible groups around the
// stages of a run, error annotations for failed checks and kernel splats,
// and a markdown table in the job's step summary.
package ghactions

import (
	"fmt"
	"sort"
	"strings"
)

// Enabled says whether we run as a step of a GitHub Actions workflow.
func Enabled(getenv func(string) string) bool { return getenv("GITHUB_ACTIONS") == "true" }

// Escaping of workflow commands, as the runner undoes it
// (actions/toolkit, packages/core/src/command.ts).
var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

// EscapeData escapes a command's message.
func EscapeData(s string) string { return dataEscaper.Replace(s) }

// EscapeProperty escapes a property value (file, title).
func EscapeProperty(s string) string { return propertyEscaper.Replace(s) }

// Command is "::name key=value,...::message", the properties in key order
// so that the output is stable.
func Command(name string, props map[string]string, message string) string {
	var b strings.Builder
	b.WriteString("::" + name)
	keys := make([]string, 0, len(props))
	for k, v := range props {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		sep := ","
		if i == 0 {
			sep = " "
		}
		b.WriteString(sep + k + "=" + EscapeProperty(props[k]))
	}
	b.WriteString("::" + EscapeData(message))
	return b.String()
}

// Annotation is one ::error:: line: shown on the run's page and, when
// File is a path of the repository, beside that file's line.
type Annotation struct {
	File    string
	Line    int
	Title   string
	Message string
}

func (a Annotation) String() string {
	props := map[string]string{"file": a.File, "title": a.Title}
	if a.Line > 0 {
		props["line"] = fmt.Sprint(a.Line)
	}
	return Command("error", props, a.Message)
}
