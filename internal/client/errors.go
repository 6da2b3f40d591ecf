package client

import (
	"errors"

	"github.com/tricolor-net/tricolor/internal/datastore"
)

// IsNotFound reports whether err says the resource does not exist.
func IsNotFound(err error) bool { return errors.Is(err, datastore.ErrNotFound) }

// isAlreadyExists reports whether err says the resource already exists.
func isAlreadyExists(err error) bool { return errors.Is(err, datastore.ErrAlreadyExists) }

// IsAlreadyExists reports whether err says the resource already exists.
func IsAlreadyExists(err error) bool { return isAlreadyExists(err) }

// IsConflict reports whether err is a compare-and-swap revision mismatch.
func IsConflict(err error) bool { return errors.Is(err, datastore.ErrConflict) }
