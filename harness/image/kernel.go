package image

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
)

// Offsets in the x86 boot protocol's setup header
// (Documentation/arch/x86/boot.rst).
const (
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
	f, err := os.Open(bzImage)
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
