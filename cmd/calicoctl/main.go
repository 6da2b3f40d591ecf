// Command calicoctl manages Calico resources in a Tricolor datastore with
// calicoctl's commands, flags, messages and exit codes.
package main

import (
	"os"

	"github.com/tricolor-net/tricolor/internal/ctl"
)

func main() {
	os.Exit(ctl.Main(os.Args[1:], ctl.Options{}))
}
