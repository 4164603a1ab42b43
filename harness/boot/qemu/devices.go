// Package qemu boots a kernel in QEMU and brings back what the guest said:
// the console, the events of the guest agent, and how QEMU ended. QEMU is
// controlled over QMP with go-qemu; every wait has a deadline.
package qemu

import (
	"fmt"
	"strings"
)

// Device is one piece of the virtual machine: the QEMU arguments that make
// it and the kernel command-line arguments that go with it.
type Device interface {
	QEMUArgs() []string
	KernelArgs() []string
}

// Machine is the board and its accelerator.
type Machine struct {
	Type  string // q35 or microvm
	Accel string // kvm or tcg
	// NoACPI is set for a kernel built without ACPI, on microvm: no ACPI
	// tables, so QEMU lists the virtio-mmio devices on the kernel command
	// line and the firmware gives an MP table for the other CPUs.
	NoACPI   bool
	CPUs     int
	MemoryMB int
}

func (m Machine) QEMUArgs() []string {
	args := []string{"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"}
	switch m.Accel {
	case AccelKVM:
		args = append(args, "-accel", "kvm", "-cpu", "host")
	default:
		// max gives the guest every feature TCG can emulate; thread=multi
		// runs each vCPU on its own host thread.
		args = append(args, "-accel", "tcg,thread=multi", "-cpu", "max")
	}
	machine := m.Type
	if machine == MicroVM {
		// The PIT and RTC keep TSC calibration from hanging under TCG.
		machine = "microvm,pit=on,pic=on,rtc=on,isa-serial=on"
		if m.NoACPI {
			machine += ",acpi=off"
		}
	}
	return append(args, "-M", machine, "-smp", fmt.Sprint(m.CPUs), "-m", fmt.Sprint(m.MemoryMB))
}

func (m Machine) KernelArgs() []string {
	// panic=-1 reboots at once on a panic and -no-reboot turns that into
	// QEMU exiting, so a dead kernel never hangs the run.
	args := []string{"panic=-1"}
	if m.Accel != AccelKVM {
		// Under TCG the TSC is the fastest stable clock; skip its slow
		// calibration and watchdog.
		args = append(args, "tsc=reliable", "no_timer_check")
	}
	if m.Type == MicroVM && m.NoACPI {
		// Without ACPI there is no reset register, microvm has no keyboard
		// controller, and the BIOS way would rerun the firmware: a triple
		// fault is the reset that -no-reboot turns into QEMU exiting.
		args = append(args, "reboot=t")
	}
	return args
}

// Kernel is the kernel image and initramfs.
type Kernel struct {
	Image, Initrd string
}

func (k Kernel) QEMUArgs() []string {
	return []string{"-kernel", k.Image, "-initrd", k.Initrd}
}

func (Kernel) KernelArgs() []string { return []string{"rdinit=/init"} }

// SerialConsole puts the kernel console on the first serial port, wired to
// a unix socket the host listens on. Serial rather than virtio so that a
// kernel that dies before virtio is up is still heard.
type SerialConsole struct {
	Socket string
	// LogLevel 5 prints warnings and worse: WARN, BUG, Oops and panics, not
	// the chatter of a normal boot.
	LogLevel int
}

func (c SerialConsole) QEMUArgs() []string {
	return []string{"-chardev", "socket,id=console,path=" + optValue(c.Socket), "-serial", "chardev:console"}
}

func (c SerialConsole) KernelArgs() []string {
	// earlyprintk: the decompressor and the earliest boot speak on the
	// same port, so that a damaged image says so instead of a silent
	// boot waited out to its deadline.
	return []string{"console=ttyS0", "earlyprintk=ttyS0", fmt.Sprintf("loglevel=%d", c.LogLevel)}
}

// EventsPort is a named virtio-serial port for the agent's events.
type EventsPort struct {
	Socket string
	Name   string
	MMIO   bool // microvm has no PCI
}

func (p EventsPort) QEMUArgs() []string {
	bus := "virtio-serial-pci"
	if p.MMIO {
		bus = "virtio-serial-device"
	}
	return []string{
		"-device", bus + ",id=vser",
		"-chardev", "socket,id=events,path=" + optValue(p.Socket),
		"-device", "virtserialport,bus=vser.0,chardev=events,name=" + p.Name,
	}
}

func (EventsPort) KernelArgs() []string { return nil }

// Monitor is the QMP socket; QEMU serves it and the host connects.
type Monitor struct {
	Socket string
}

func (m Monitor) QEMUArgs() []string {
	return []string{"-qmp", "unix:" + optValue(m.Socket) + ",server=on,wait=off"}
}

func (Monitor) KernelArgs() []string { return nil }

// optValue escapes a value inside a QEMU option list, where a comma
// would end it and start an option of the user's choosing: QEMU reads
// ",," as one comma.
func optValue(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// CommandLine joins the devices into QEMU's arguments, the kernel
// command line last so that devices can add to it.
func CommandLine(devs []Device, extraKernelArgs []string) []string {
	var args, kargs []string
	for _, d := range devs {
		args = append(args, d.QEMUArgs()...)
		kargs = append(kargs, d.KernelArgs()...)
	}
	kargs = append(kargs, extraKernelArgs...)
	return append(args, "-append", strings.Join(kargs, " "))
}
