package boot

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/boot/driver"
	"github.com/kernel-harness/harness/harness/boot/vng"
	"github.com/kernel-harness/harness/harness/wire"
)

// fakeVNG is a vng that runs its --exec string with sh and prints a line
// of "console"; it exits 3 when the exec string is "fail".
const fakeVNG = `#!/bin/sh
while [ $# -gt 0 ]; do
	case "$1" in
	--exec) shift; cmd="$1" ;;
	esac
	shift
done
echo "fake vng: booting"
if [ "$cmd" = fail ]; then echo "vng: error: no kernel found" >&2; exit 3; fi
sh -c "$cmd"
`

// vngBoot is a vng boot as the tests write it: the vng driver's
// options, where the events go, and the supervisor's deadlines.
type vngBoot struct {
	vng.Options
	EventsFile string
	Deadlines  driver.Deadlines
	Console    io.Writer
	OnEvent    func(wire.Event, []byte)
}

func fakeBoot(t *testing.T, command string) vngBoot {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "vng")
	if err := os.WriteFile(bin, []byte(fakeVNG), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	return vngBoot{
		Options:    vng.Options{VNG: bin, Kernel: "/k/bzImage", RWDir: dir, Command: []string{"sh", "-c", command}},
		EventsFile: filepath.Join(dir, "events.jsonl"),
		Deadlines:  driver.Deadlines{Boot: time.Minute, Idle: time.Minute, Run: time.Minute},
	}
}

// runVNG is one vng boot followed by the supervisor.
func runVNG(ctx context.Context, b vngBoot) (*driver.Outcome, error) {
	inst, err := vng.Start(ctx, b.Options, b.EventsFile, b.Console)
	if err != nil {
		return &driver.Outcome{}, err
	}
	return Supervise(ctx, inst, b.Deadlines, Sinks{OnEvent: b.OnEvent})
}

func TestVNGFollowsEvents(t *testing.T) {
	b := fakeBoot(t, "")
	b.Command = []string{"sh", "-c", `printf '{"kind":"hello","t_ns":1,"release":"6.12"}\n' >> ` + b.EventsFile +
		`; printf '{"kind":"done","t_ns":2,"ok":true}\n' >> ` + b.EventsFile}
	var kinds []wire.Kind
	var con strings.Builder
	b.Console = &con
	b.OnEvent = func(e wire.Event, raw []byte) { kinds = append(kinds, e.Kind) }
	out, err := runVNG(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Done || !reflect.DeepEqual(kinds, []wire.Kind{wire.Hello, wire.Done}) {
		t.Errorf("done %v, events %v", out.Done, kinds)
	}
	if !strings.Contains(con.String(), "fake vng: booting") {
		t.Errorf("console: %q", con.String())
	}
}

func TestVNGReportsVNGError(t *testing.T) {
	b := fakeBoot(t, "")
	b.Command = []string{"fail"}
	_, err := runVNG(context.Background(), b)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"no kernel found", "vng command: " + b.VNG + " --run /k/bzImage", "exit status 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestVNGIdleDeadline(t *testing.T) {
	b := fakeBoot(t, "")
	b.Command = []string{"sh", "-c", `printf '{"kind":"hello","t_ns":1}\n' >> ` + b.EventsFile + `; sleep 30`}
	b.Deadlines.Idle = 300 * time.Millisecond
	_, err := runVNG(context.Background(), b)
	if err == nil || !strings.Contains(err.Error(), driver.ErrSilent.Error()) {
		t.Fatalf("want the guest silent, got %v", err)
	}
}
