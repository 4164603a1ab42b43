// Package testutil holds what tests across the harness share: fake
// kernel images and golden files.
package testutil

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Update says whether the tests run with -update.
func Update() bool { return *update }

// Golden compares got with the file at path, or under -update writes it.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// Offsets in an x86 bzImage's setup header (the boot protocol's).
const (
	setupSectsOff    = 0x1f1
	sysSizeOff       = 0x1f4
	magicOff         = 0x202
	protocolOff      = 0x206
	kernelVersionOff = 0x20e
	payloadOff       = 0x248
	payloadLenOff    = 0x24c
	versionAt        = 0x300 // where Version goes; the pointer is from 0x200
	headerSize       = 0x400
)

// BzImage is a fake x86 bzImage: the setup header fields the harness
// reads, and what follows the setup sectors.
type BzImage struct {
	// Version is the kernel_version string: the release and the builder.
	Version    string
	SetupSects byte
	// SysSize claims that many 16-byte paragraphs of code after the setup.
	SysSize  uint32
	Protocol uint16
	// Prefix (the decompressor), Payload (the compressed kernel, which
	// payload_offset and payload_length point at) and Trailer follow the
	// setup sectors. Without them the image is the header's 1 KiB alone:
	// enough for the release, and a SysSize that claims more is cut off.
	Prefix, Payload, Trailer []byte
}

// Bytes lays the image out.
func (b BzImage) Bytes() []byte {
	size := headerSize
	tail := len(b.Prefix) + len(b.Payload) + len(b.Trailer)
	if tail > 0 {
		size = max(size, (int(b.SetupSects)+1)*512)
	}
	img := make([]byte, size)
	img[setupSectsOff] = b.SetupSects
	binary.LittleEndian.PutUint32(img[sysSizeOff:], b.SysSize)
	copy(img[magicOff:], "HdrS")
	binary.LittleEndian.PutUint16(img[protocolOff:], b.Protocol)
	binary.LittleEndian.PutUint16(img[kernelVersionOff:], versionAt-0x200)
	copy(img[versionAt:], b.Version+"\x00")
	if tail == 0 {
		return img
	}
	binary.LittleEndian.PutUint32(img[payloadOff:], uint32(len(b.Prefix)))
	binary.LittleEndian.PutUint32(img[payloadLenOff:], uint32(len(b.Payload)))
	img = append(img, b.Prefix...)
	img = append(img, b.Payload...)
	return append(img, b.Trailer...)
}

// BzImageOf is the header of a bzImage of release, as a kernel build
// stamps it.
func BzImageOf(release string) []byte {
	return BzImage{Version: release + " (builder) #1 SMP"}.Bytes()
}

// FakeBzImage writes dir/bzImage, the header of a bzImage of release:
// what a release probe reads. It returns the path.
func FakeBzImage(t testing.TB, dir, release string) string {
	t.Helper()
	return WriteFile(t, filepath.Join(dir, "bzImage"), BzImageOf(release))
}

// WriteFile writes data to path, making its folder, and returns path.
func WriteFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Within runs fn and returns its error, failing the test when fn has not
// returned within limit: a read that would hang (a FIFO) is a failure,
// not a stuck test.
func Within(t testing.TB, limit time.Duration, what string, fn func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		t.Fatalf("%s still blocked after %v", what, limit)
		return nil
	}
}
