package simulator

import (
	"errors"
	"fmt"
)

// Application error codes. Each part of kgsim reports failures with one of
// these so that the command line (exit status) and the HTTP surface (status
// code) can map them in one place.
const (
	EINVALID  = "invalid" // the caller's input is malformed or out of range
	ENOTFOUND = "not_found"
	ECONFLICT = "conflict"
	EINTERNAL = "internal"
	// The store cannot keep what it is given: the disk is full (nothing
	// was stored), or the database is damaged or unreadable.
	EFULL        = "storage_full"
	EUNAVAILABLE = "unavailable"
)

// Error is an application error: a code, a message written for the person
// who has to fix the input, and the input (flag, field) it is about.
type Error struct {
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Errorf returns an *Error with the given code and field.
func Errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}
