package datastore

import "fmt"

// The helpers below build the errors every backend returns, so that the same
// failure reads the same way whichever datastore is behind it. Each wraps one
// of the sentinels (test with errors.Is) and says what to do next.

// NotFoundError reports that op ("get", "update", "delete") found no key.
func NotFoundError(op string, key Key) error {
	return fmt.Errorf("%s %s: %w", op, key, ErrNotFound)
}

// AlreadyExistsError reports a Create on a taken key; currentRevision is the
// revision of the existing resource when the backend knows it.
func AlreadyExistsError(key Key, currentRevision string) error {
	if currentRevision == "" {
		return fmt.Errorf("create %s: %w; update it instead, or delete it first", key, ErrAlreadyExists)
	}
	return fmt.Errorf("create %s: %w (at revision %s); update it instead, or delete it first",
		key, ErrAlreadyExists, currentRevision)
}

// ConflictError reports a failed compare-and-swap: the caller wrote against
// revision given but the resource is at current.
func ConflictError(op string, key Key, given, current string) error {
	return fmt.Errorf("%s %s: revision %s is stale (current %s): %w; re-read the resource and retry",
		op, key, given, current, ErrConflict)
}

// RevisionRequiredError reports an Update without a revision.
func RevisionRequiredError(key Key) error {
	return fmt.Errorf("update %s: %w; Get it first and pass its Revision", key, ErrRevisionRequired)
}

// CompactedError reports a List or Watch at a revision older than the oldest
// one the backend still holds.
// oldest may be "" when the backend does not know it.
func CompactedError(op string, requested, oldest string) error {
	if oldest == "" {
		return fmt.Errorf("%s at revision %s: %w; list again from the current revision", op, requested, ErrCompacted)
	}
	return fmt.Errorf("%s at revision %s: %w (oldest available is %s); list again from the current revision",
		op, requested, ErrCompacted, oldest)
}
