package main

import (
	"io"
	"unicode/utf8"

	"golang.org/x/term"
)

// liveWriter is where the live view goes: on a terminal, every line cut to the
// terminal's width (read at each write, so a resize counts), so that no line wraps and
// redrawing the block in place never leaves stale lines behind.
func (a *app) liveWriter() io.Writer {
	if !a.stdoutTTY || a.stdoutFD < 0 {
		return a.stdout
	}
	fd := a.stdoutFD
	return &fitWriter{w: a.stdout, width: func() int {
		w, _, err := term.GetSize(fd)
		if err != nil {
			return 0
		}
		return w
	}}
}

// fitWriter cuts every line written through it to width()-1 printable characters
// (0 or less: no cut). ANSI escape sequences (ESC [ … final byte) pass through
// untouched and take no width; a cut line ends in "…".
type fitWriter struct {
	w     io.Writer
	width func() int
	col   int  // printable characters on the current line so far
	cut   bool // the current line has been cut
	esc   int  // 0 outside an escape sequence, 1 after ESC, 2 inside CSI
}

func (f *fitWriter) Write(p []byte) (int, error) {
	max := f.width() - 1
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); {
		b := p[i]
		switch {
		case f.esc == 1:
			f.esc = 0
			if b == '[' {
				f.esc = 2
			}
			out = append(out, b)
			i++
			continue
		case f.esc == 2:
			if b >= 0x40 && b <= 0x7e {
				f.esc = 0
			}
			out = append(out, b)
			i++
			continue
		case b == 0x1b:
			f.esc = 1
			out = append(out, b)
			i++
			continue
		case b == '\n' || b == '\r':
			f.col, f.cut = 0, false
			out = append(out, b)
			i++
			continue
		}
		_, size := utf8.DecodeRune(p[i:])
		if max <= 0 || !f.cut && (f.col < max-1 || (f.col == max-1 && lineEndsAt(p, i+size))) {
			out = append(out, p[i:i+size]...)
			f.col++
		} else if !f.cut {
			out = append(out, "…"...)
			f.cut = true
		}
		i += size
	}
	if _, err := f.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// lineEndsAt tells whether a line break follows at p[i] (the end of p does not count:
// the line may go on in the next write).
func lineEndsAt(p []byte, i int) bool {
	return i < len(p) && (p[i] == '\n' || p[i] == '\r')
}
