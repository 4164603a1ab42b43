package vng

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kernel-harness/harness/harness/boot/driver"
	kernelconfig "github.com/kernel-harness/harness/kernel-config"
)

func writeConfig(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// profileConfig is what the fragments of a profile ask for, the last one
// winning as in the build's check: y options as a .config would list them.
func profileConfig(t *testing.T, profile string) []string {
	t.Helper()
	paths, err := kernelconfig.Write(profile, t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	on := map[string]bool{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutSuffix(l, "=y"); ok {
				on[name] = true
			} else if name, ok := strings.CutPrefix(l, "# "); ok && strings.HasSuffix(name, " is not set") {
				delete(on, strings.TrimSuffix(name, " is not set"))
			}
		}
	}
	var out []string
	for n := range on {
		out = append(out, n+"=y")
	}
	return out
}

func TestCheckConfigProfiles(t *testing.T) {
	// The vng profile has everything vng needs; it has no block layer, so
	// the boot names the 9p root.
	fit, err := CheckConfig(writeConfig(t, profileConfig(t, kernelconfig.VNG)...))
	if err != nil {
		t.Fatal(err)
	}
	if fit.Err() != nil || len(fit.Missing) != 0 {
		t.Errorf("vng profile: %v", fit.Err())
	}
	if fit.NoACPI {
		t.Error("vng profile without ACPI: the guest would not power off")
	}
	force9p, args := fit.Args()
	if !force9p || !reflect.DeepEqual(args, []string{"root=/dev/root"}) {
		t.Errorf("vng profile: force 9p %v, append %q", force9p, args)
	}

	// The minimal profile is refused, naming what it lacks and where to
	// get it.
	fit, err = CheckConfig(writeConfig(t, profileConfig(t, "minimal")...))
	if err != nil {
		t.Fatal(err)
	}
	e := fit.Err()
	if e == nil {
		t.Fatal("a minimal kernel accepted for vng")
	}
	for _, want := range []string{"CONFIG_9P_FS", "CONFIG_NET_9P_VIRTIO", "CONFIG_VIRTIO_PCI", "CONFIG_OVERLAY_FS", "--profile vng"} {
		if !strings.Contains(e.Error(), want) {
			t.Errorf("refusal lacks %q: %v", want, e)
		}
	}
	if strings.Contains(e.Error(), "CONFIG_TMPFS") {
		t.Errorf("minimal has TMPFS, yet: %v", e)
	}
}

func TestCheckConfigBlockAndVirtiofs(t *testing.T) {
	all := append([]string{}, Needs...)
	for i := range all {
		all[i] += "=y"
	}
	fit, err := CheckConfig(writeConfig(t, append(all, "CONFIG_BLOCK=y", "CONFIG_VIRTIO_FS=m", "CONFIG_ACPI=y")...))
	if err != nil {
		t.Fatal(err)
	}
	if force9p, args := fit.Args(); force9p || args != nil || fit.Err() != nil {
		t.Errorf("a kernel as vng --kconfig makes it: force 9p %v, append %q, %v", force9p, args, fit.Err())
	}
	fit, _ = CheckConfig(writeConfig(t, append(all, "CONFIG_BLOCK=y")...))
	if force9p, args := fit.Args(); !force9p || args != nil || !fit.NoACPI {
		t.Errorf("no virtiofs: force 9p %v, append %q, no ACPI %v", force9p, args, fit.NoACPI)
	}
	if _, err := CheckConfig(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("a missing config read")
	}
}

func TestSafePath(t *testing.T) {
	for _, p := range []string{"/tmp/out", "/home/me/harness-out/20261202-064500", "/a/b.c+d@e:f,g"} {
		if err := SafePath("--out", p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, p := range []string{"/tmp/my out", "/tmp/it's", `/tmp/a"b`, `/tmp/a\b`, "/tmp/a=b", "/tmp/a\tb"} {
		err := SafePath("--out", p)
		if err == nil || !strings.Contains(err.Error(), "--out") {
			t.Errorf("%q accepted: %v", p, err)
		}
	}
}

func TestHint(t *testing.T) {
	panicked := []string{
		"[    2.9] Run /opt/virtme-ng/virtme/guest/virtme-init as init process",
		"[    3.0] Kernel panic - not syncing: Requested init /opt/virtme-ng/virtme/guest/virtme-init failed (error -2).",
	}
	if h := Hint(panicked); !strings.Contains(h, "lacks the filesystems vng needs") {
		t.Errorf("init failed: %q", h)
	}
	if h := Hint([]string{"9pnet_virtio: no channels available for device /dev/root"}); h == "" {
		t.Error("no 9p channel: no hint")
	}
	if h := Hint([]string{"vng: error: no kernel found"}); h != "" {
		t.Errorf("a vng error hinted: %q", h)
	}
	err := exitErr(nil, panicked)
	if !strings.HasPrefix(err.Error(), "the kernel probably lacks") || !strings.Contains(err.Error(), "Requested init") {
		t.Errorf("exit error: %v", err)
	}
}

func TestDeadlines(t *testing.T) {
	d := driver.Deadlines{Boot: 15 * time.Second, Idle: 30 * time.Second, Run: 5 * time.Minute}
	if got := Deadlines(d, accelKVM); got != (driver.Deadlines{Boot: 45 * time.Second, Idle: 30 * time.Second, Run: 5 * time.Minute}) {
		t.Errorf("kvm: %+v", got)
	}
	// Under TCG the boot gets 3 minutes: vng's start took 45 s on a quiet
	// machine and passed 60 s under load.
	if got := Deadlines(d, accelTCG); got != (driver.Deadlines{Boot: 3 * time.Minute, Idle: 2 * time.Minute, Run: 20 * time.Minute, Stretch: driver.TCGStretch}) {
		t.Errorf("tcg: %+v", got)
	}
}
