package vng

import "github.com/kernel-harness/harness/harness/boot/driver"

// BootStretch lengthens the boot deadline under vng: before its command
// runs, vng's init starts udev and lays tmpfs and overlays over the
// host's root through 9p, which under TCG took 45 s to the first event
// on a quiet machine (QEMU's own boot: 5.5 s) and more with other load.
// A kernel that panics still ends the boot at once (vng exits with QEMU).
const BootStretch = 3

// Deadlines are d for a vng boot on accel: TCG's stretch for all of
// them, and BootStretch more for the boot.
func Deadlines(d driver.Deadlines, accel string) driver.Deadlines {
	if accel == accelTCG {
		d = d.ForTCG()
	}
	d.Boot = driver.Times(d.Boot, BootStretch)
	return d
}
