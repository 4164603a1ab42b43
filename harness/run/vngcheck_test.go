package run

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/harness/kernel"
	"github.com/kernel-harness/harness/harness/vng"
)

func TestVNGDefaults(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		profile string
		err     string
	}{
		{name: "a tree under vng gets the vng profile", o: Options{Backend: BackendVNG, Out: "/tmp/o", Build: buildTree("")}, profile: "vng"},
		{name: "a tree under qemu gets minimal", o: Options{Backend: BackendQEMU, Out: "/tmp/o", Build: buildTree("")}, profile: "minimal"},
		{name: "--profile wins", o: Options{Backend: BackendVNG, Out: "/tmp/o", Build: buildTree("debug")}, profile: "debug"},
		{name: "a space in --out under vng", o: Options{Backend: BackendVNG, Out: "/tmp/my out"}, err: `--out "/tmp/my out": vng splits paths`},
		{name: "a space in --out is fine under qemu", o: Options{Backend: BackendQEMU, Out: "/tmp/my out"}},
		{name: "a space in --kernel under vng", o: Options{Backend: BackendVNG, Out: "/tmp/o", Kernel: "/k/my bzImage"}, err: "--kernel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := vngDefaults(&tt.o)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("want error %q, got %v", tt.err, err)
				}
				return
			}
			if err != nil || tt.o.Build.Profile != tt.profile {
				t.Fatalf("profile %q, %v; want %q", tt.o.Build.Profile, err, tt.profile)
			}
		})
	}
}

// TestVNGFit checks a kernel's config as the boot finds it, beside the
// image: refused when vng cannot boot it, warned about without a config.
func TestVNGFit(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "bzImage")
	os.WriteFile(img, nil, 0o644)
	var said []string
	say := func(f string, a ...any) { said = append(said, f) }

	_, _, err := vngFit(kernel.Kernel{Image: img}, say)
	if err != nil || len(said) != 1 || !strings.Contains(said[0], "warning: no config") {
		t.Fatalf("no config: %v, said %q", err, said)
	}

	os.WriteFile(filepath.Join(dir, "config"), []byte("CONFIG_VIRTIO_MMIO=y\nCONFIG_TMPFS=y\n# CONFIG_PCI is not set\n"), 0o644)
	_, _, err = vngFit(kernel.Kernel{Image: img}, say)
	if err == nil || !strings.Contains(err.Error(), "lacks CONFIG_PCI, CONFIG_VIRTIO_PCI, CONFIG_NET_9P") || !strings.Contains(err.Error(), "--profile vng") {
		t.Fatalf("a kernel without 9p: %v", err)
	}

	var cfg []string
	for _, n := range vng.Needs {
		cfg = append(cfg, n+"=y")
	}
	os.WriteFile(filepath.Join(dir, "config"), []byte(strings.Join(append(cfg, "CONFIG_ACPI=y"), "\n")), 0o644)
	force9p, more, err := vngFit(kernel.Kernel{Image: img}, say)
	if err != nil || !force9p || !reflect.DeepEqual(more, []string{"root=/dev/root"}) {
		t.Fatalf("the vng profile's kernel: %v %q %v", force9p, more, err)
	}

	spaced := filepath.Join(t.TempDir(), "a b")
	if _, _, err := vngFit(kernel.Kernel{Image: filepath.Join(spaced, "bzImage")}, say); err == nil {
		t.Fatal("a kernel path vng would split accepted")
	}
}

func buildTree(profile string) build.Options { return build.Options{Tree: "/t", Profile: profile} }
