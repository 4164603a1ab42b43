package qemu

import (
	"slices"
	"strings"
	"testing"
)

// bootDevices is the device list Boot builds, so the tests check the
// command line QEMU really gets.
func bootDevices(m Machine) []Device {
	return []Device{
		m,
		Kernel{Image: "/k/bzImage", Initrd: "/k/initrd.cpio"},
		SerialConsole{Socket: "/d/console.sock", LogLevel: 5},
		EventsPort{Socket: "/d/events.sock", Name: "harness.events", MMIO: m.Type == "microvm"},
		Monitor{Socket: "/d/qmp.sock"},
	}
}

func TestCommandLine(t *testing.T) {
	// Everything after the machine arguments is the same on every board
	// except the virtio-serial bus.
	tail := func(bus string) []string {
		return []string{
			"-kernel", "/k/bzImage", "-initrd", "/k/initrd.cpio",
			"-chardev", "socket,id=console,path=/d/console.sock", "-serial", "chardev:console",
			"-device", bus + ",id=vser",
			"-chardev", "socket,id=events,path=/d/events.sock",
			"-device", "virtserialport,bus=vser.0,chardev=events,name=harness.events",
			"-qmp", "unix:/d/qmp.sock,server=on,wait=off",
		}
	}
	common := []string{"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"}
	tests := []struct {
		name    string
		machine Machine
		head    []string // after common, before tail
		bus     string
		append  string
	}{
		{
			name:    "q35 tcg",
			machine: Machine{Type: "q35", Accel: AccelTCG, CPUs: 2, MemoryMB: 512},
			head:    []string{"-accel", "tcg,thread=multi", "-cpu", "max", "-M", "q35", "-smp", "2", "-m", "512"},
			bus:     "virtio-serial-pci",
			append:  "panic=-1 tsc=reliable no_timer_check rdinit=/init console=ttyS0 earlyprintk=ttyS0 loglevel=5 harness.x=1",
		},
		{
			name:    "q35 kvm",
			machine: Machine{Type: "q35", Accel: AccelKVM, CPUs: 4, MemoryMB: 1024},
			head:    []string{"-accel", "kvm", "-cpu", "host", "-M", "q35", "-smp", "4", "-m", "1024"},
			bus:     "virtio-serial-pci",
			append:  "panic=-1 rdinit=/init console=ttyS0 earlyprintk=ttyS0 loglevel=5 harness.x=1",
		},
		{
			name:    "microvm tcg",
			machine: Machine{Type: "microvm", Accel: AccelTCG, CPUs: 1, MemoryMB: 256},
			head: []string{"-accel", "tcg,thread=multi", "-cpu", "max",
				"-M", "microvm,pit=on,pic=on,rtc=on,isa-serial=on", "-smp", "1", "-m", "256"},
			bus:    "virtio-serial-device",
			append: "panic=-1 tsc=reliable no_timer_check rdinit=/init console=ttyS0 earlyprintk=ttyS0 loglevel=5 harness.x=1",
		},
		{
			// The minimal profile's kernel: no ACPI tables, so QEMU puts the
			// virtio-mmio devices on the command line; reboot by triple fault.
			name:    "microvm without acpi",
			machine: Machine{Type: "microvm", NoACPI: true, Accel: AccelKVM, CPUs: 2, MemoryMB: 512},
			head: []string{"-accel", "kvm", "-cpu", "host",
				"-M", "microvm,pit=on,pic=on,rtc=on,isa-serial=on,acpi=off", "-smp", "2", "-m", "512"},
			bus:    "virtio-serial-device",
			append: "panic=-1 reboot=t rdinit=/init console=ttyS0 earlyprintk=ttyS0 loglevel=5 harness.x=1",
		},
		{
			// NoACPI means nothing on q35, which has its own firmware tables.
			name:    "q35 kernel without acpi",
			machine: Machine{Type: "q35", NoACPI: true, Accel: AccelKVM, CPUs: 1, MemoryMB: 512},
			head:    []string{"-accel", "kvm", "-cpu", "host", "-M", "q35", "-smp", "1", "-m", "512"},
			bus:     "virtio-serial-pci",
			append:  "panic=-1 rdinit=/init console=ttyS0 earlyprintk=ttyS0 loglevel=5 harness.x=1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CommandLine(bootDevices(tt.machine), []string{"harness.x=1"})
			want := slices.Concat(common, tt.head, tail(tt.bus), []string{"-append", tt.append})
			if !slices.Equal(got, want) {
				t.Errorf("CommandLine:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// The kernel command line must carry what keeps a run from hanging; check
// the individual words so a reordering does not hide a lost one.
func TestCommandLineKernelArgs(t *testing.T) {
	kargs := func(accel string) []string {
		args := CommandLine(bootDevices(Machine{Type: "q35", Accel: accel, CPUs: 1, MemoryMB: 128}), nil)
		if len(args) < 2 || args[len(args)-2] != "-append" {
			t.Fatalf("%s: -append is not the last argument pair: %q", accel, args)
		}
		return strings.Fields(args[len(args)-1])
	}
	tcg := kargs(AccelTCG)
	for _, w := range []string{"console=ttyS0", "loglevel=5", "panic=-1", "rdinit=/init", "tsc=reliable"} {
		if !slices.Contains(tcg, w) {
			t.Errorf("tcg kernel command line %q lacks %s", tcg, w)
		}
	}
	kvm := kargs(AccelKVM)
	if slices.Contains(kvm, "tsc=reliable") {
		t.Errorf("kvm kernel command line %q has tsc=reliable; KVM's TSC is calibrated normally", kvm)
	}
	for _, w := range []string{"console=ttyS0", "loglevel=5", "panic=-1", "rdinit=/init"} {
		if !slices.Contains(kvm, w) {
			t.Errorf("kvm kernel command line %q lacks %s", kvm, w)
		}
	}
}

func TestEventsPortBus(t *testing.T) {
	for _, tt := range []struct {
		mmio bool
		want string
	}{{false, "virtio-serial-pci,id=vser"}, {true, "virtio-serial-device,id=vser"}} {
		args := EventsPort{Socket: "/s", Name: "n", MMIO: tt.mmio}.QEMUArgs()
		if len(args) < 2 || args[0] != "-device" || args[1] != tt.want {
			t.Errorf("MMIO=%v: %q, want it to start with -device %s", tt.mmio, args, tt.want)
		}
	}
}

// Extra kernel arguments come last so that they can override the devices'.
func TestCommandLineExtraLast(t *testing.T) {
	args := CommandLine([]Device{Kernel{Image: "k", Initrd: "i"}}, []string{"a=1", "b"})
	want := []string{"-kernel", "k", "-initrd", "i", "-append", "rdinit=/init a=1 b"}
	if !slices.Equal(args, want) {
		t.Errorf("got %q, want %q", args, want)
	}
}

// A comma in a path cannot end QEMU's option and start another one.
func TestCommandLineEscapesCommas(t *testing.T) {
	dir := "/tmp/x,server=off,y"
	args := strings.Join(CommandLine([]Device{
		SerialConsole{Socket: dir + "/console.sock"},
		EventsPort{Socket: dir + "/events.sock", Name: "e"},
		Monitor{Socket: dir + "/qmp.sock"},
	}, nil), " ")
	for _, want := range []string{
		"socket,id=console,path=/tmp/x,,server=off,,y/console.sock ",
		"socket,id=events,path=/tmp/x,,server=off,,y/events.sock ",
		"unix:/tmp/x,,server=off,,y/qmp.sock,server=on,wait=off",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("command line lacks %q:\n%s", want, args)
		}
	}
}

// A folder too long for a unix socket is refused naming TMPDIR.
func TestCheckSocketDir(t *testing.T) {
	if err := CheckSocketDir("/tmp/harness-123"); err != nil {
		t.Error(err)
	}
	long := "/tmp/" + strings.Repeat("d", 100)
	t.Setenv("TMPDIR", long)
	err := CheckSocketDir(long + "/harness-123")
	if err == nil || !strings.Contains(err.Error(), "set TMPDIR to a shorter folder") || !strings.Contains(err.Error(), "more than the 107") {
		t.Errorf("%v", err)
	}
}
