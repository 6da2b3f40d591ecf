package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// Fingerprints returns, for each set of resources (a kind, optionally
// narrowed by namespace and name prefix, as for List; Revision is
// ignored), an opaque string that changes whenever a resource in the set is
// created, updated or deleted — all read in one transaction, so one round
// trip and one consistent revision. Callers (IPAM's cache) compare it with
// the fingerprint of what they read earlier to know, exactly, whether a
// cached copy of the set is still current.
//
// A fingerprint is "<count>/<highest mod revision>" over the set's etcd
// prefix. Any create or update gives its key a revision higher than every
// earlier one, so it raises the highest mod revision unless that key is
// deleted again; a set that only lost keys has a lower count. So equal
// fingerprints mean an identical set. (When the prefix is wider than the
// set — a name prefix on a namespaced kind without a namespace — the
// fingerprint covers the wider prefix: it may change when the set did not,
// never the other way round.)
func (b *Backend) Fingerprints(ctx context.Context, sets []datastore.ListOptions) ([]string, error) {
	if len(sets) == 0 {
		return nil, nil
	}
	ops := make([]clientv3.Op, len(sets))
	for i, o := range sets {
		if err := datastore.ValidateListOptions(o); err != nil {
			return nil, fmt.Errorf("fingerprint: %w", err)
		}
		p := listPrefix(o)
		// Sorting by mod revision makes etcd consider the whole range; the
		// limit then returns only the newest key, and Count is the size.
		ops[i] = clientv3.OpGet(p, clientv3.WithRange(clientv3.GetPrefixRangeEnd(p)), clientv3.WithKeysOnly(),
			clientv3.WithSort(clientv3.SortByModRevision, clientv3.SortDescend), clientv3.WithLimit(1))
	}
	// A transaction of reads only is served as one linearizable read.
	resp, err := b.client.Txn(ctx).Then(ops...).Commit()
	if err != nil {
		return nil, b.wrap(fmt.Sprintf("fingerprint %d resource sets", len(sets)), err)
	}
	if len(resp.Responses) != len(sets) {
		return nil, fmt.Errorf("fingerprint: etcd at %s answered %d of %d reads", b.endpoints, len(resp.Responses), len(sets))
	}
	out := make([]string, len(sets))
	for i, r := range resp.Responses {
		rr := r.GetResponseRange()
		if rr == nil {
			return nil, fmt.Errorf("fingerprint: etcd at %s answered read %d with no range", b.endpoints, i)
		}
		var newest int64
		if len(rr.Kvs) > 0 {
			newest = rr.Kvs[0].ModRevision
		}
		out[i] = fmt.Sprintf("%d/%d", rr.Count, newest)
	}
	return out, nil
}
