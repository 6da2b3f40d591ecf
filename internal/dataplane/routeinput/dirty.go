package routeinput

// MarkDirty makes the next ApplyIfDirty reconcile: for Resync (repair the
// kernel) and for updates the manager records itself.
func (in *Input) MarkDirty() { in.dirty = true }

// Dirty reports whether something changed since the last successful
// ApplyIfDirty.
func (in *Input) Dirty() bool { return in.dirty }

// ApplyIfDirty runs reconcile when the input is dirty and marks it clean
// when reconcile succeeds; after an error it stays dirty, so the next call
// retries. It returns reconcile's error.
func (in *Input) ApplyIfDirty(reconcile func() error) error {
	if !in.dirty {
		return nil
	}
	if err := reconcile(); err != nil {
		return err
	}
	in.dirty = false
	return nil
}
