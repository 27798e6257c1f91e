//go:build !unix

package sqlite

import "os"

// lockFile takes no lock where flock is missing: SQLite's own locking is
// all that guards the file there.
func lockFile(string) (*os.File, error) { return nil, nil }
