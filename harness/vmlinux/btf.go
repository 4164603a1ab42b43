// Package vmlinux reads a kernel image's own BTF and turns it into the
// vmlinux.h that BPF C code is compiled against, so that a program built
// by the harness matches the kernel it will be loaded into, whether that
// kernel was just built, came from the cache or was given by path.
package vmlinux

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Setup header fields (Documentation/arch/x86/boot.rst).
const (
	setupSectsOff = 0x1f1
	magicOff      = 0x202
	versionOff    = 0x206
	payloadOff    = 0x248
	payloadLenOff = 0x24c
	headerEnd     = 0x250
	// payload_offset/length exist from boot protocol 2.08 on.
	minProtocol = 0x0208
	// Bound the decompressed kernel: a few hundred MiB at most.
	maxVmlinux = 1 << 30
	// kbuild appends the decompressed size, 4 bytes, to every payload
	// but gzip's, whose trailer has it already.
	sizeLen = 4
)

// BTF returns the raw .BTF section of the kernel inside an x86 bzImage:
// the setup header locates the compressed vmlinux, which is an ELF file
// that keeps .BTF (the kernel reads it at run time).
func BTF(bzImage string) ([]byte, error) {
	raw, err := os.ReadFile(bzImage)
	if err != nil {
		return nil, err
	}
	payload, err := compressedPayload(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bzImage, err)
	}
	kernel, err := decompress(payload)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bzImage, err)
	}
	f, err := elf.NewFile(bytes.NewReader(kernel))
	if err != nil {
		return nil, fmt.Errorf("%s: the decompressed kernel is not ELF: %w", bzImage, err)
	}
	sec := f.Section(".BTF")
	if sec == nil {
		return nil, fmt.Errorf("%s: the kernel has no BTF: build it with CONFIG_DEBUG_INFO_BTF=y", bzImage)
	}
	return sec.Data()
}

func compressedPayload(raw []byte) ([]byte, error) {
	if len(raw) < headerEnd || string(raw[magicOff:magicOff+4]) != "HdrS" {
		return nil, errors.New("not an x86 bzImage (no HdrS magic)")
	}
	if v := binary.LittleEndian.Uint16(raw[versionOff:]); v < minProtocol {
		return nil, fmt.Errorf("boot protocol %#x is older than 2.08: no payload fields", v)
	}
	setupSects := int(raw[setupSectsOff])
	if setupSects == 0 {
		setupSects = 4
	}
	start := (setupSects + 1) * 512
	off := start + int(binary.LittleEndian.Uint32(raw[payloadOff:]))
	n := int(binary.LittleEndian.Uint32(raw[payloadLenOff:]))
	if n <= sizeLen || off < 0 || off+n > len(raw) {
		return nil, fmt.Errorf("payload [%d, %d) is outside the %d-byte file", off, off+n, len(raw))
	}
	return raw[off : off+n], nil
}

func decompress(p []byte) ([]byte, error) {
	var r io.Reader
	switch {
	case bytes.HasPrefix(p, []byte{0x1f, 0x8b}):
		gz, err := gzip.NewReader(bytes.NewReader(p))
		if err != nil {
			return nil, fmt.Errorf("gzip payload: %w", err)
		}
		gz.Multistream(false)
		r = gz
	case bytes.HasPrefix(p, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		z, err := zstd.NewReader(bytes.NewReader(p[:len(p)-sizeLen]), zstd.WithDecoderMaxMemory(maxVmlinux))
		if err != nil {
			return nil, fmt.Errorf("zstd payload: %w", err)
		}
		defer z.Close()
		r = z
	case bytes.HasPrefix(p, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		x, err := xz.NewReader(bytes.NewReader(p[:len(p)-sizeLen]))
		if err != nil {
			return nil, fmt.Errorf("xz payload: %w", err)
		}
		r = x
	default:
		n := min(len(p), 6)
		return nil, fmt.Errorf("kernel compressed in a format the harness cannot read (magic % x); "+
			"build it with CONFIG_KERNEL_GZIP, _ZSTD or _XZ, or compile the program yourself and pass --bpf-object", p[:n])
	}
	out, err := io.ReadAll(io.LimitReader(r, maxVmlinux+1))
	if err != nil {
		return nil, fmt.Errorf("decompress the kernel: %w", err)
	}
	if len(out) > maxVmlinux {
		return nil, fmt.Errorf("decompressed kernel is larger than %d bytes", maxVmlinux)
	}
	return out, nil
}
