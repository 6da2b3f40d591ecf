package testutil

import (
	"os"
	"strings"
	"testing"
)

// RequireRoot skips the test with "needs root: <reason>" when the process is
// not running as root. Privileged tests (named TestPrivileged…) call it first;
// CI runs as root, so they run there. The reason is optional; without one the
// message names the test.
func RequireRoot(t testing.TB, reason ...string) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	why := strings.Join(reason, " ")
	if why == "" {
		why = t.Name() + " changes kernel state (netns, links, routes or nftables)"
	}
	t.Skipf("needs root: %s", why)
}

// InCI reports whether the tests run under CI (env CI=true). Helpers that
// would skip for a missing tool on a developer machine fail instead in CI,
// where the tool must be installed.
func InCI() bool {
	return os.Getenv("CI") == "true"
}
