package contract

import (
	"strings"
)

// Exception waives one check where the published spec itself is wrong or silent.
// Each entry names the operation and why; a divergence of the sandbox or a client is
// fixed there, never listed here.
type Exception struct {
	Name   string
	Method string // "" for any
	Path   string // "*" matches one segment
	Stage  string // "route", "request" or "response"
	Reason string
}

// Exceptions is the whole list, kept short on purpose.
var Exceptions = []Exception{}

func exceptionFor(method, path, stage string) *Exception {
	for i, e := range Exceptions {
		if e.Stage == stage && (e.Method == "" || e.Method == method) && segmentsMatch(e.Path, path) {
			return &Exceptions[i]
		}
	}
	return nil
}

func segmentsMatch(pattern, path string) bool {
	ps := strings.Split(strings.Trim(pattern, "/"), "/")
	xs := strings.Split(strings.Trim(path, "/"), "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if ps[i] != "*" && ps[i] != xs[i] {
			return false
		}
	}
	return true
}
