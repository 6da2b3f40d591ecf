package testutil

// sysSetns is setns(2) on linux/amd64 (the standard library's syscall
// package does not name it).
const sysSetns = 308
