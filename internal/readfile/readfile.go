// Package readfile reads the files users name — the onboarding file, configuration
// files, mounted secrets, TLS certificates — through one gate: a regular file only
// (links are followed; a device such as /dev/zero, a FIFO, a socket or a directory is
// refused without being read or waited on), and at most a stated number of bytes,
// so that neither memory nor time depends on what the name points at.
package readfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Kind says what a file is for: its name in messages, its size limit, and what to do
// when it is too large.
type Kind struct {
	What  string // e.g. "an onboarding file"
	Limit int64  // bytes
	Fix   string // e.g. "split the portals into several files"
}

// Limits of the files dcrflow reads.
var (
	Onboarding = Kind{What: "an onboarding file", Limit: 32 << 20, Fix: "split the portals into several files"}
	Config     = Kind{What: "a configuration file", Limit: 64 << 10, Fix: "keep only dcrflow's settings in it"}
	Secret     = Kind{What: "a secret file", Limit: 64 << 10, Fix: "the file should hold the token or key alone"}
	PEM        = Kind{What: "a PEM file", Limit: 1 << 20, Fix: "the file should hold the certificates or the key alone"}
)

// Error is a file that could not be read; its message names the file and, for a file
// too large or not regular, the limit.
type Error struct {
	Path   string
	Reason string
}

func (e *Error) Error() string { return e.Path + ": " + e.Reason }

// Read returns the content of the regular file at path, refusing anything else and
// anything over k.Limit bytes. It never blocks on a FIFO and never reads past the
// limit (plus one byte, to tell).
func Read(path string, k Kind) ([]byte, error) {
	if path == "" {
		return nil, &Error{Path: `""`, Reason: "no file named; give a path"}
	}
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. The
	// kind of file is checked on the opened descriptor, so a link swapped in between
	// is checked too.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, &Error{Path: path, Reason: reason(err)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &Error{Path: path, Reason: reason(err)}
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Path: path, Reason: fmt.Sprintf("%s, not a regular file; %s must be a regular file (of at most %s)", modeName(st.Mode()), k.What, Size(k.Limit))}
	}
	if st.Size() > k.Limit {
		return nil, tooLarge(path, k)
	}
	b, err := io.ReadAll(io.LimitReader(f, k.Limit+1))
	if err != nil {
		return nil, &Error{Path: path, Reason: reason(err)}
	}
	if int64(len(b)) > k.Limit { // a file that grew, or one whose size the system does not know (/proc)
		return nil, tooLarge(path, k)
	}
	return b, nil
}

func tooLarge(path string, k Kind) error {
	return &Error{Path: path, Reason: fmt.Sprintf("larger than %s, the limit for %s; %s", Size(k.Limit), k.What, k.Fix)}
}

// reason is an error of the system without the operation and path it repeats.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return err.Error()
}

func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device (such as /dev/zero or /dev/urandom)"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "a special file (" + m.String() + ")"
}

// Size writes a limit in the largest whole binary unit: 32 MiB, 64 KiB, 100 bytes.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
