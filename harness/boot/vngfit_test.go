package boot

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/boot/vng"
	"github.com/kernel-harness/harness/harness/kernel"
)

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
