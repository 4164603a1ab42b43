// Package image prepares what a guest boots from: it reads the release of an
// x86 bzImage, resolves kernel modules against a modules directory
// (modules.dep, modules.builtin) and writes the newc initramfs whose /init is
// the harness's own static binary.
package image
