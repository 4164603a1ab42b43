package image

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/kernel-harness/harness/harness/input"
)

// Offsets in the x86 boot protocol's setup header
// (Documentation/arch/x86/boot.rst).
const (
	setupSectsOff    = 0x1F1 // u8: 512-byte sectors of real-mode setup (0 means 4)
	sysSizeOff       = 0x1F4 // u32: size of the protected-mode code in 16-byte paragraphs
	setupBase        = 0x200 // kernel_version is relative to this
	hdrMagicOff      = 0x202 // "HdrS"
	kernelVersionOff = 0x20E // u16 pointer to the version string
	setupHeaderEnd   = kernelVersionOff + 2
	maxVersionLen    = 512 // the string is a short banner; bound the read
)

// KernelRelease returns the release ("uname -r") of an x86 bzImage, read
// from the version string its setup header points to, so a kernel can be
// matched with its /lib/modules/<release> without booting it.
func KernelRelease(bzImage string) (string, error) {
	f, err := input.Open(bzImage) // never a FIFO that blocks
	if err != nil {
		return "", err
	}
	defer f.Close()

	hdr := make([]byte, setupHeaderEnd)
	n, err := f.ReadAt(hdr, 0)
	if n < len(hdr) {
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("%s: %w", bzImage, err)
		}
		return "", fmt.Errorf("%s: not an x86 bzImage (file too short: %d bytes)", bzImage, n)
	}
	if string(hdr[hdrMagicOff:hdrMagicOff+4]) != "HdrS" {
		return "", fmt.Errorf("%s: not an x86 bzImage (no HdrS magic)", bzImage)
	}
	// A cut-off image boots into nothing at all: QEMU ends without a
	// word on the console. The header says how long the image is.
	if fi, err := f.Stat(); err == nil {
		if want := imageSize(hdr); want > 0 && fi.Size() < want {
			return "", fmt.Errorf("%s is cut off: %d bytes where its header says %d: copy the image again", bzImage, fi.Size(), want)
		}
	}
	ptr := binary.LittleEndian.Uint16(hdr[kernelVersionOff:])
	if ptr == 0 {
		return "", fmt.Errorf("%s: bzImage setup header has no kernel_version string", bzImage)
	}

	off := int64(ptr) + setupBase
	buf := make([]byte, maxVersionLen)
	n, err = f.ReadAt(buf, off)
	if n == 0 {
		if err == nil || err == io.EOF {
			return "", fmt.Errorf("%s: kernel_version offset %#x is beyond the end of the file", bzImage, off)
		}
		return "", fmt.Errorf("%s: %w", bzImage, err)
	}
	buf = buf[:n]
	end := bytes.IndexByte(buf, 0)
	if end < 0 {
		return "", fmt.Errorf("%s: kernel_version string at %#x is not NUL-terminated within %d bytes", bzImage, off, maxVersionLen)
	}
	fields := strings.Fields(string(buf[:end]))
	if len(fields) == 0 {
		return "", fmt.Errorf("%s: kernel_version string at %#x is empty", bzImage, off)
	}
	return fields[0], nil
}

// imageSize is the least size of the image the setup header describes:
// the boot sector and setup sectors, then the protected-mode code; 0 when
// the header does not say (syssize 0).
func imageSize(hdr []byte) int64 {
	sys := int64(binary.LittleEndian.Uint32(hdr[sysSizeOff:])) * 16
	if sys == 0 {
		return 0
	}
	setup := int64(hdr[setupSectsOff])
	if setup == 0 {
		setup = 4
	}
	return (setup+1)*512 + sys
}
