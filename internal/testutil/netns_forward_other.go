//go:build !amd64 && !arm64

package testutil

// sysSetns is unknown here; setns fails with ENOSYS and the helpers report it.
const sysSetns = ^uintptr(0)
