package image

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/internal/testutil"
)

// fakeBzImage builds the part of an x86 boot image KernelRelease reads:
// the setup header magic and a kernel_version pointer to version.
func fakeBzImage(magic string, version string) []byte {
	img := testutil.BzImage{Version: version}.Bytes()
	copy(img[hdrMagicOff:], magic)
	return img
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKernelRelease(t *testing.T) {
	const banner = "6.12.117+deb12-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.12.117-1 (2025-01-01)"
	got, err := KernelRelease(writeTemp(t, "vmlinuz", fakeBzImage("HdrS", banner)))
	if err != nil {
		t.Fatal(err)
	}
	if want := "6.12.117+deb12-cloud-amd64"; got != want {
		t.Errorf("KernelRelease = %q, want %q", got, want)
	}
}

func TestKernelReleaseErrors(t *testing.T) {
	noPtr := fakeBzImage("HdrS", "6.1.0")
	binary.LittleEndian.PutUint16(noPtr[kernelVersionOff:], 0)
	pastEnd := fakeBzImage("HdrS", "6.1.0")
	binary.LittleEndian.PutUint16(pastEnd[kernelVersionOff:], 0x1000)
	cutOff := fakeBzImage("HdrS", "6.1.0")
	cutOff[setupSectsOff] = 2
	binary.LittleEndian.PutUint32(cutOff[sysSizeOff:], 0x100) // 4096 bytes after 3 sectors
	unterminated := fakeBzImage("HdrS", "")
	for i := 0x300; i < len(unterminated); i++ {
		unterminated[i] = 'x'
	}

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"bad magic", fakeBzImage("ELF!", "6.1.0"), "not an x86 bzImage (no HdrS magic)"},
		{"cut off", cutOff, "is cut off: 1024 bytes where its header says 5632"},
		{"short file", []byte("MZ short"), "not an x86 bzImage (file too short: 8 bytes)"},
		{"empty file", nil, "file too short: 0 bytes"},
		{"no version pointer", noPtr, "has no kernel_version string"},
		{"pointer past end", pastEnd, "beyond the end of the file"},
		{"empty version", fakeBzImage("HdrS", "   "), "is empty"},
		{"unterminated", unterminated, "not NUL-terminated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := KernelRelease(writeTemp(t, "vmlinuz", tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("KernelRelease = %q, %v; want error containing %q", got, err, tc.want)
			}
		})
	}

	if _, err := KernelRelease(filepath.Join(t.TempDir(), "nope")); !os.IsNotExist(err) {
		t.Errorf("missing file: err = %v, want not-exist", err)
	}
}

// The release of a modules folder comes from its first module's
// vermagic, the module compressed or not.
func TestModulesRelease(t *testing.T) {
	got, err := ModulesRelease(filepath.Join("testdata", "modules-6.12.9"))
	if err != nil || got != "6.12.9-test" {
		t.Errorf("ModulesRelease = %q, %v; want 6.12.9-test", got, err)
	}
	magic, err := vermagic(filepath.Join("testdata", "modules-6.12.9", "kernel", "a.ko"))
	if err != nil || !strings.HasPrefix(magic, "6.12.9-test SMP") {
		t.Errorf("vermagic = %q, %v", magic, err)
	}
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "modules.dep"), nil, 0o644)
	if got, err := ModulesRelease(empty); err != nil || got != "" {
		t.Errorf("no modules: %q, %v", got, err)
	}
}
