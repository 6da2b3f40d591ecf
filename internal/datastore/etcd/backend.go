package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// listPageSize bounds one range response so that listing a large kind does
// not need one huge message; pages are read at one fixed revision.
const listPageSize = 2000

// Backend is a datastore.Backend on an etcd v3 cluster.
type Backend struct {
	client    *clientv3.Client
	endpoints string
}

var _ datastore.Backend = (*Backend)(nil)

// New connects to the cluster described by cfg. It does not wait for the
// cluster to answer (the client keeps retrying through outages); use Ping to
// check reachability.
func New(cfg Config) (*Backend, error) {
	cc, err := cfg.clientConfig()
	if err != nil {
		return nil, err
	}
	c, err := clientv3.New(cc)
	if err != nil {
		return nil, fmt.Errorf("etcd: connect to %s: %w", strings.Join(cfg.Endpoints, ","), err)
	}
	return &Backend{client: c, endpoints: strings.Join(cfg.Endpoints, ",")}, nil
}

// Client exposes the underlying etcd client for tools (benchmarks, etcd
// maintenance); resource access must go through the Backend methods.
func (b *Backend) Client() *clientv3.Client { return b.client }

// Ping checks that the cluster answers a read within ctx.
func (b *Backend) Ping(ctx context.Context) error {
	if _, err := b.client.Get(ctx, KeyRoot, clientv3.WithCountOnly()); err != nil {
		return fmt.Errorf("etcd at %s is not answering: %w", b.endpoints, err)
	}
	return nil
}

// Get implements datastore.Backend.
func (b *Backend) Get(ctx context.Context, key datastore.Key) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	resp, err := b.client.Get(ctx, etcdKey(key))
	if err != nil {
		return nil, b.wrap("get "+key.String(), err)
	}
	if len(resp.Kvs) == 0 {
		return nil, datastore.NotFoundError("get", key)
	}
	return toPair(key, resp.Kvs[0]), nil
}

// List implements datastore.Backend. Large results are read in pages, all at
// the revision of the first page, so the list is one consistent snapshot.
func (b *Backend) List(ctx context.Context, opts datastore.ListOptions) (*datastore.KVList, error) {
	if err := datastore.ValidateListOptions(opts); err != nil {
		return nil, err
	}
	var rev int64
	if opts.Revision != "" {
		var err error
		if rev, err = datastore.ParseRevision("list revision", opts.Revision); err != nil {
			return nil, fmt.Errorf("list %s: %w", opts.Kind, err)
		}
	}
	prefix := listPrefix(opts)
	end := clientv3.GetPrefixRangeEnd(prefix)
	out := &datastore.KVList{Items: []datastore.KVPair{}}
	from := prefix
	for {
		getOpts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(listPageSize)}
		if rev != 0 {
			getOpts = append(getOpts, clientv3.WithRev(rev))
		}
		resp, err := b.client.Get(ctx, from, getOpts...)
		if err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				return nil, datastore.CompactedError("list "+opts.Kind, opts.Revision, "")
			}
			return nil, b.wrap("list "+opts.Kind, err)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if k, ok := parseKey(opts.Kind, kv.Key); ok && opts.Matches(k) {
				out.Items = append(out.Items, *toPair(k, kv))
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			break
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
	out.Revision = datastore.FormatRevision(rev)
	// etcd returns byte order of the whole path, which differs from
	// namespace-then-name when a namespace is a prefix of another ("a/x"
	// sorts after "a-b/x").
	datastore.SortKVs(out.Items)
	return out, nil
}

// Create implements datastore.Backend: put only if the key has never been
// created (or was deleted since).
func (b *Backend) Create(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(kv.Key); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	path := etcdKey(kv.Key)
	resp, err := b.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(path), "=", 0)).
		Then(clientv3.OpPut(path, string(kv.Value))).
		Else(clientv3.OpGet(path, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return nil, b.wrap("create "+kv.Key.String(), err)
	}
	if !resp.Succeeded {
		return nil, datastore.AlreadyExistsError(kv.Key, currentRevision(resp))
	}
	return written(kv, resp.Header.Revision), nil
}

// Update implements datastore.Backend: put only if the mod revision still
// equals kv.Revision.
func (b *Backend) Update(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(kv.Key); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if kv.Revision == "" {
		return nil, datastore.RevisionRequiredError(kv.Key)
	}
	want, err := datastore.ParseRevision("revision", kv.Revision)
	if err != nil || want == 0 {
		// Revision 0 would match a missing key's ModRevision and create it.
		return nil, fmt.Errorf("update %s: revision %q is not a revision this datastore issued; Get the resource first", kv.Key, kv.Revision)
	}
	path := etcdKey(kv.Key)
	resp, err := b.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(path), "=", want)).
		Then(clientv3.OpPut(path, string(kv.Value))).
		Else(clientv3.OpGet(path, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return nil, b.wrap("update "+kv.Key.String(), err)
	}
	if !resp.Succeeded {
		cur := currentRevision(resp)
		if cur == "" {
			return nil, datastore.NotFoundError("update", kv.Key)
		}
		return nil, datastore.ConflictError("update", kv.Key, kv.Revision, cur)
	}
	return written(kv, resp.Header.Revision), nil
}

// Delete implements datastore.Backend.
func (b *Backend) Delete(ctx context.Context, key datastore.Key, revision string) (*datastore.KVPair, error) {
	if err := datastore.ValidateKey(key); err != nil {
		return nil, fmt.Errorf("delete: %w", err)
	}
	path := etcdKey(key)
	txn := b.client.Txn(ctx)
	if revision != "" {
		want, err := datastore.ParseRevision("revision", revision)
		if err != nil || want == 0 {
			return nil, fmt.Errorf("delete %s: revision %q is not a revision this datastore issued", key, revision)
		}
		txn = txn.If(clientv3.Compare(clientv3.ModRevision(path), "=", want))
	}
	resp, err := txn.
		Then(clientv3.OpDelete(path, clientv3.WithPrevKV())).
		Else(clientv3.OpGet(path, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return nil, b.wrap("delete "+key.String(), err)
	}
	if !resp.Succeeded {
		cur := currentRevision(resp)
		if cur == "" {
			return nil, datastore.NotFoundError("delete", key)
		}
		return nil, datastore.ConflictError("delete", key, revision, cur)
	}
	del := resp.Responses[0].GetResponseDeleteRange()
	if del == nil || len(del.PrevKvs) == 0 {
		return nil, datastore.NotFoundError("delete", key)
	}
	return toPair(key, del.PrevKvs[0]), nil
}

// Compact discards etcd history before rev (etcd keeps rev itself). Reads
// and watches at older revisions then fail with ErrCompacted. For tests and
// maintenance; production clusters use etcd's auto-compaction.
func (b *Backend) Compact(ctx context.Context, rev string) error {
	n, err := datastore.ParseRevision("compact revision", rev)
	if err != nil {
		return err
	}
	if _, err := b.client.Compact(ctx, n, clientv3.WithCompactPhysical()); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return b.wrap("compact at revision "+rev, err)
	}
	return nil
}

// Close implements datastore.Backend; it also ends every watch.
func (b *Backend) Close() error {
	return b.client.Close()
}

// wrap adds the operation and the cluster to an etcd error.
func (b *Backend) wrap(op string, err error) error {
	return fmt.Errorf("%s in etcd at %s: %w", op, b.endpoints, err)
}

// currentRevision reads the Else-branch Get of a failed transaction: the
// key's mod revision, or "" when it does not exist.
func currentRevision(resp *clientv3.TxnResponse) string {
	if len(resp.Responses) == 0 {
		return ""
	}
	r := resp.Responses[0].GetResponseRange()
	if r == nil || len(r.Kvs) == 0 {
		return ""
	}
	return datastore.FormatRevision(r.Kvs[0].ModRevision)
}

// toPair converts a stored etcd key-value into a KVPair.
func toPair(key datastore.Key, kv *mvccpb.KeyValue) *datastore.KVPair {
	return &datastore.KVPair{Key: key, Value: kv.Value, Revision: datastore.FormatRevision(kv.ModRevision)}
}

// written returns what a successful put stored.
func written(kv *datastore.KVPair, rev int64) *datastore.KVPair {
	return &datastore.KVPair{Key: kv.Key, Value: append([]byte(nil), kv.Value...), Revision: datastore.FormatRevision(rev)}
}
