package main

import (
	"context"
	"sync/atomic"

	"github.com/tricolor-net/tricolor/internal/datastore"
	"github.com/tricolor-net/tricolor/internal/ipam"
)

// countingStore counts the datastore round trips IPAM makes: every Store
// call, and every Fingerprints call (one etcd transaction), is one.
type countingStore struct {
	st    ipam.Store
	fp    ipam.Fingerprinter // nil when st has none
	calls atomic.Int64
}

var _ ipam.Store = (*countingStore)(nil)

func newCountingStore(st ipam.Store) *countingStore {
	c := &countingStore{st: st}
	c.fp, _ = st.(ipam.Fingerprinter)
	return c
}

// withFingerprints returns c as a Store that also offers Fingerprints when
// the wrapped store does, so IPAM sees the same capabilities.
func (c *countingStore) withFingerprints() ipam.Store {
	if c.fp == nil {
		return c
	}
	return &countingFingerprinter{c}
}

type countingFingerprinter struct{ *countingStore }

var _ ipam.Fingerprinter = (*countingFingerprinter)(nil)

func (c *countingFingerprinter) Fingerprints(ctx context.Context, sets []datastore.ListOptions) ([]string, error) {
	c.calls.Add(1)
	return c.fp.Fingerprints(ctx, sets)
}

func (c *countingStore) Get(ctx context.Context, k datastore.Key) (*datastore.KVPair, error) {
	c.calls.Add(1)
	return c.st.Get(ctx, k)
}

func (c *countingStore) List(ctx context.Context, o datastore.ListOptions) (*datastore.KVList, error) {
	c.calls.Add(1)
	return c.st.List(ctx, o)
}

func (c *countingStore) Create(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	c.calls.Add(1)
	return c.st.Create(ctx, kv)
}

func (c *countingStore) Update(ctx context.Context, kv *datastore.KVPair) (*datastore.KVPair, error) {
	c.calls.Add(1)
	return c.st.Update(ctx, kv)
}

func (c *countingStore) Delete(ctx context.Context, k datastore.Key, rev string) (*datastore.KVPair, error) {
	c.calls.Add(1)
	return c.st.Delete(ctx, k, rev)
}
