package vmlinux

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/internal/testutil"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// An ELF file with a .BTF section stands in for vmlinux: the committed
// BPF objects are such files.
const elfWithBTF = "../../selftests/progs/autolowat_bpfel.o"

func wantBTF(t *testing.T) []byte {
	t.Helper()
	f, err := elf.Open(elfWithBTF)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := f.Section(".BTF").Data()
	if err != nil || len(b) == 0 {
		t.Fatalf(".BTF of %s: %v", elfWithBTF, err)
	}
	return b
}

// bzImage wraps payload the way the x86 boot protocol lays it out: a
// setup header saying where the compressed kernel is, then the kernel,
// then (but for gzip) its size.
func bzImage(t *testing.T, payload []byte, withSize bool) string {
	t.Helper()
	if withSize {
		payload = binary.LittleEndian.AppendUint32(payload, 12345)
	}
	img := testutil.BzImage{SetupSects: 3, Protocol: 0x020f, Prefix: []byte("decompressor code"),
		Payload: payload, Trailer: []byte("trailing setup data")}
	return testutil.WriteFile(t, filepath.Join(t.TempDir(), "bzImage"), img.Bytes())
}

func TestBTFFromEachCompression(t *testing.T) {
	kernel, err := os.ReadFile(elfWithBTF)
	if err != nil {
		t.Fatal(err)
	}
	want := wantBTF(t)
	compress := map[string]func() ([]byte, bool){
		"gzip": func() ([]byte, bool) {
			var b bytes.Buffer
			w := gzip.NewWriter(&b)
			w.Write(kernel)
			w.Close()
			return b.Bytes(), false
		},
		"zstd": func() ([]byte, bool) {
			enc, _ := zstd.NewWriter(nil)
			return enc.EncodeAll(kernel, nil), true
		},
		"xz": func() ([]byte, bool) {
			var b bytes.Buffer
			w, err := xz.NewWriter(&b)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(kernel)
			w.Close()
			return b.Bytes(), true
		},
	}
	for name, c := range compress {
		t.Run(name, func(t *testing.T) {
			payload, withSize := c()
			got, err := BTF(bzImage(t, payload, withSize))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got %d bytes of BTF, want the %d of .BTF", len(got), len(want))
			}
		})
	}
}

func TestBTFErrors(t *testing.T) {
	notELF := func() []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte("not an ELF file"))
		w.Close()
		return b.Bytes()
	}()
	tests := []struct {
		name string
		path func(t *testing.T) string
		want string
	}{
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, "no such file"},
		{"not a bzImage", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x")
			os.WriteFile(p, make([]byte, 4096), 0o644)
			return p
		}, "no HdrS magic"},
		{"lz4", func(t *testing.T) string { return bzImage(t, []byte{0x02, 0x21, 0x4c, 0x18, 1, 2, 3}, true) }, "CONFIG_KERNEL_GZIP"},
		{"not ELF", func(t *testing.T) string { return bzImage(t, notELF, false) }, "not ELF"},
		{"truncated", func(t *testing.T) string { return bzImage(t, []byte{0x1f, 0x8b, 8, 0, 0}, false) }, "gzip payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BTF(tt.path(t))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want one that says %q", err, tt.want)
			}
		})
	}
}
