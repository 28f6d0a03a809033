package emu

import "fmt"

// APIError is an error answered by an emulated service, with the HTTP status and the
// exact code string the real service uses (misspellings included).
type APIError struct {
	HTTPStatus int
	Code       string
	Message    string
	// AccessDeniedDetail is set on a RAM denial: the RPC services return it beside Code
	// (the classic SDK's ServerError.AccessDeniedDetail reads it).
	AccessDeniedDetail map[string]string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.HTTPStatus, e.Code, e.Message)
}

// Errorf builds an APIError.
func Errorf(status int, code, format string, args ...any) *APIError {
	return &APIError{HTTPStatus: status, Code: code, Message: fmt.Sprintf(format, args...)}
}
