package readfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var small = Kind{What: "a test file", Limit: 1 << 10, Fix: "make it smaller"}

// Every name a careless or hostile user may give is answered at once, with a message
// naming the file and the limit, and without reading more than the limit.
func TestRead_RefusesWhatIsNotARegularFileOfBoundedSize(t *testing.T) {
	dir := t.TempDir()
	link := func(name, target string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 1025), 0o600); err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(dir, "sparse") // 1 GiB on paper, nothing on disk
	if f, err := os.Create(sparse); err != nil || f.Truncate(1<<30) != nil || f.Close() != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, want string }{
		{"a link to /dev/zero", link("zero", "/dev/zero"), "/zero: a character device (such as /dev/zero or /dev/urandom), not a regular file; a test file must be a regular file (of at most 1 KiB)"},
		{"a link to /dev/urandom", link("random", "/dev/urandom"), "/random: a character device (such as /dev/zero or /dev/urandom), not a regular file; a test file must be a regular file (of at most 1 KiB)"},
		{"/dev/zero itself", "/dev/zero", "/dev/zero: a character device (such as /dev/zero or /dev/urandom), not a regular file; a test file must be a regular file (of at most 1 KiB)"},
		{"a FIFO nobody writes to", fifo, "/fifo: a named pipe (FIFO), not a regular file; a test file must be a regular file (of at most 1 KiB)"},
		{"a directory", dir, "/" + filepath.Base(dir) + ": a directory, not a regular file; a test file must be a regular file (of at most 1 KiB)"},
		{"one byte over the limit", big, "/big: larger than 1 KiB, the limit for a test file; make it smaller"},
		{"a sparse file of 1 GiB", sparse, "/sparse: larger than 1 KiB, the limit for a test file; make it smaller"},
		{"a missing file", filepath.Join(dir, "nope"), "/nope: no such file or directory"},
		{"a link to nowhere", link("dangling", filepath.Join(dir, "nope")), "/dangling: no such file or directory"},
		{"no name", "", `"": no file named; give a path`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			b, err := Read(tc.path, small)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
			var e *Error
			if !errors.As(err, &e) || !strings.HasSuffix(err.Error(), tc.want) || b != nil {
				t.Fatalf("err = %v, %d bytes; want …%s", err, len(b), tc.want)
			}
		})
	}
}

func TestRead_ReadsARegularFileUpToTheLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ok")
	want := strings.Repeat("x", 1024)
	if err := os.WriteFile(p, []byte(want), 0o600); err != nil {
		t.Fatal(err)
	}
	l := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(p, l); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{p, l} {
		b, err := Read(path, small)
		if err != nil || string(b) != want {
			t.Fatalf("%s: %d bytes, err %v", path, len(b), err)
		}
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{32 << 20: "32 MiB", 64 << 10: "64 KiB", 100: "100 bytes", 1<<20 + 1: "1048577 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
