package run

// Modules the scenarios may need, loaded when the kernel has them as
// modules; built-in ones need nothing.
var wantedModules = []string{"virtio_pci", "virtio_mmio", "virtio_console", "ipv6", "tun"}
