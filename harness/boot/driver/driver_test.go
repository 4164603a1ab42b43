package driver

import (
	"testing"
	"time"
)

func TestDeadlineNote(t *testing.T) {
	d := Deadlines{Boot: time.Second, Idle: 30 * time.Second}
	if got := d.Note(d.Idle, "--idle-timeout"); got != "--idle-timeout 30s" {
		t.Error(got)
	}
	d = d.ForTCG()
	if got := d.Note(d.Idle, "--idle-timeout"); got != "2m0s: --idle-timeout 30s, 4x under TCG" {
		t.Error(got)
	}
}

func TestLastLine(t *testing.T) {
	tests := []struct {
		lines []string
		want  string
	}{
		{nil, "(nothing)"},
		{[]string{"", "  "}, "(nothing)"},
		{[]string{"first", "Kernel panic - not syncing: x", "  ", ""}, `"Kernel panic - not syncing: x"`},
		{[]string{"  padded\t"}, `"padded"`},
	}
	for _, tt := range tests {
		if got := LastLine(tt.lines); got != tt.want {
			t.Errorf("LastLine(%q) = %s, want %s", tt.lines, got, tt.want)
		}
	}
}

func TestCommandString(t *testing.T) {
	if got := (Command{}).String(); got != "" {
		t.Errorf("zero Command = %q, want nothing", got)
	}
	if got := (Command{Name: "vng", Line: "vng --run k"}).String(); got != "vng command: vng --run k" {
		t.Error(got)
	}
}

// Stretching a deadline never wraps it negative.
func TestTimesSaturates(t *testing.T) {
	if got := Times(time.Hour, 4); got != 4*time.Hour {
		t.Errorf("1h x 4 = %v", got)
	}
	if got := Times(1000000*time.Hour, 4); got <= 0 {
		t.Errorf("1000000h x 4 = %v", got)
	}
	if got := (Deadlines{Boot: 1000000 * time.Hour, Idle: time.Hour, Run: time.Hour}).ForTCG(); got.Boot <= 0 {
		t.Errorf("ForTCG of 1000000h: %v", got.Boot)
	}
}
