package datastore

import (
	"fmt"
	"log/slog"
	"testing"
)

// BenchmarkKindSyncer_Relist10k measures the re-list diff the syncer does
// after a compaction: 10,000 keys, 1% changed.
func BenchmarkKindSyncer_Relist10k(b *testing.B) {
	list := &KVList{Revision: "100"}
	for i := 0; i < 10000; i++ {
		list.Items = append(list.Items, KVPair{Key: Key{Kind: "WorkloadEndpoint", Namespace: "ns", Name: fmt.Sprintf("w%05d", i)}, Revision: "1"})
	}
	k := &kindSyncer{s: &Syncer{Log: slog.Default()}, known: map[Key]string{}}
	k.diff(list)
	changed := &KVList{Revision: "200", Items: append([]KVPair(nil), list.Items...)}
	for i := 0; i < len(changed.Items); i += 100 {
		changed.Items[i].Revision = "150"
	}
	for b.Loop() {
		k.known = map[Key]string{}
		k.diff(list)
		if n := len(k.diff(changed)); n != 100 {
			b.Fatalf("diff has %d updates; want 100", n)
		}
	}
}
