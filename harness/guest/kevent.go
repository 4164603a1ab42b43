package guest

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/kernel-harness/harness/selftests/progs"
)

// decodeKevent decodes a ring buffer record; the layout is the C struct
// kevent, little-endian on every architecture the harness boots.
func decodeKevent(raw []byte, k *progs.TracerKevent) error {
	if want := binary.Size(k); len(raw) < want {
		return fmt.Errorf("ring buffer record of %d bytes, want %d", len(raw), want)
	}
	return binary.Read(bytes.NewReader(raw), binary.LittleEndian, k)
}
