// Package progs holds the harness's BPF programs: C sources, and the Go
// bindings and objects bpf2go made from them. The objects are committed so
// that building the harness needs no clang; `make bpf` regenerates them and
// CI fails when the committed ones differ.
package progs

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -Iinclude" -target bpfel -type kevent Tracer tracer.bpf.c
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu -Iinclude" -target bpfel Autolowat autolowat.bpf.c
