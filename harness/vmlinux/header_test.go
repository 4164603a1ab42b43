package vmlinux

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestWriteHeader(t *testing.T) {
	if _, err := exec.LookPath("bpftool"); err != nil {
		t.Skip("bpftool is not installed: apt-get install bpftool (make deps-bpf)")
	}
	kernel, err := os.ReadFile(elfWithBTF)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(kernel)
	w.Close()
	hdr, err := WriteHeader(context.Background(), bzImage(t, b.Bytes(), false), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(hdr.Path)
	if err != nil {
		t.Fatal(err)
	}
	// The program's own types come out as C.
	for _, want := range []string{"#ifndef __VMLINUX_H__", "struct state {", "__u32 complete_end;"} {
		if !strings.Contains(string(got), want) {
			t.Errorf("vmlinux.h lacks %q", want)
		}
	}
}
