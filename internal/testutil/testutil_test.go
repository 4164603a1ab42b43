package testutil_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/kernel-harness/harness/harness/image"
	"github.com/kernel-harness/harness/internal/testutil"
)

// The fake image is one the harness's own probe reads the release of.
func TestFakeBzImage(t *testing.T) {
	p := testutil.FakeBzImage(t, filepath.Join(t.TempDir(), "new"), "6.12.1-test")
	if rel, err := image.KernelRelease(p); err != nil || rel != "6.12.1-test" {
		t.Errorf("KernelRelease = %q, %v", rel, err)
	}
	img := testutil.BzImage{SetupSects: 3, Payload: []byte("kernel")}.Bytes()
	if len(img) != 4*512+len("kernel") || string(img[4*512:]) != "kernel" {
		t.Errorf("the payload is not after the setup sectors: %d bytes", len(img))
	}
}

func TestGoldenUpdate(t *testing.T) {
	p := filepath.Join(t.TempDir(), "testdata", "x.golden")
	flag.Set("update", "true")
	testutil.Golden(t, p, []byte("new"))
	flag.Set("update", "false")
	if b, _ := os.ReadFile(p); string(b) != "new" || testutil.Update() {
		t.Errorf("-update wrote %q", b)
	}
	testutil.Golden(t, p, []byte("new"))
}
