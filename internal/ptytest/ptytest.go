// Package ptytest opens a pseudo-terminal for tests (Linux), so that code which
// behaves differently on a terminal can be tested as a person would see it.
package ptytest

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/testenv"
	"golang.org/x/sys/unix"
)

// PTY is an open pseudo-terminal: write to Slave as a program would to its terminal,
// read what it showed from Master.
type PTY struct {
	Master, Slave *os.File
	buf           strings.Builder
	read          chan string
}

// Open opens a pseudo-terminal of 80 columns, closed at the end of the test; it skips
// the test where there is none.
func Open(t testing.TB) *PTY {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		testenv.Missing(t, "no pseudo-terminal here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		testenv.Missing(t, "unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		testenv.Missing(t, "pseudo-terminal number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		testenv.Missing(t, "open pseudo-terminal: %v", err)
	}
	p := &PTY{Master: m, Slave: s, read: make(chan string, 64)}
	p.Resize(t, 80)
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := m.Read(b)
			if n > 0 {
				p.read <- string(b[:n])
			}
			if err != nil {
				close(p.read)
				return
			}
		}
	}()
	t.Cleanup(func() {
		s.Close()
		m.Close()
	})
	return p
}

// Resize sets the terminal's width.
func (p *PTY) Resize(t testing.TB, cols int) {
	t.Helper()
	if err := unix.IoctlSetWinsize(int(p.Slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: uint16(cols)}); err != nil {
		t.Fatalf("resize pseudo-terminal: %v", err)
	}
}

// ReadUntil returns everything shown so far once it contains want (at most 10 s).
func (p *PTY) ReadUntil(t testing.TB, want string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(p.buf.String(), want) {
		select {
		case s, ok := <-p.read:
			if !ok {
				t.Fatalf("terminal closed before %q:\n%s", want, p.buf.String())
			}
			p.buf.WriteString(s)
		case <-deadline:
			t.Fatalf("timed out waiting for %q on the terminal:\n%q", want, p.buf.String())
		}
	}
	return p.buf.String()
}
