// Command calico-lab builds Tricolor clusters out of network namespaces on
// one machine and drives them:
//
//	calico-lab up [-f topo.yaml | --nodes 3 --subnets 2 …]   build a lab
//	calico-lab status | pods                                  what runs
//	calico-lab pod add <name> --node n [--namespace ns] [--labels k=v]
//	calico-lab pod del <pod>
//	calico-lab exec <pod> -- cmd…                             run in a pod
//	calico-lab ping <podA> <podB>                             one ICMP echo
//	calico-lab probe [--proto icmp|tcp|udp]                   all pairs (alias matrix)
//	calico-lab node stop|start|restart <node>                 calico-node lifecycle
//	calico-lab datastore stop|start                           etcd lifecycle
//	calico-lab list                                           labs that are up
//	calico-lab calicoctl -- get nodes                         calicoctl on the lab
//	calico-lab down [--id X | --all]                          remove everything
//	calico-lab demo                                           the README demo (make demo)
//
// See docs/lab.md. The work is done by internal/lab.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}
