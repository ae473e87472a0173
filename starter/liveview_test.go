package main

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dcrflow/dcrflow/internal/ptytest"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// visibleWidths are the printable widths of the lines of s, escape sequences aside.
func visibleWidths(s string) []int {
	var w []int
	for _, l := range strings.Split(ansi.ReplaceAllString(s, ""), "\n") {
		w = append(w, utf8.RuneCountInString(strings.TrimRight(l, "\r")))
	}
	return w
}

func TestFitWriter_CutsLongLinesKeepsEscapesAndShortLines(t *testing.T) {
	var b strings.Builder
	f := &fitWriter{w: &b, width: func() int { return 20 }}
	block := "[####....] fleet x: 1/2 done\n  payments   HELD at scopes: Okta said no, a very long message indeed\nshort\n"
	f.Write([]byte(block))
	f.Write([]byte("\x1b[3A\x1b[J")) // the redraw: back to the block's top, clear below
	f.Write([]byte("exactly nineteen ch\n"))
	got := b.String()
	for i, w := range visibleWidths(got) {
		if w > 19 {
			t.Errorf("line %d is %d wide on a 20-column terminal: %q", i, w, got)
		}
	}
	for _, want := range []string{"[####....] fleet x…\n", "  payments   HELD …\n", "short\n", "\x1b[3A\x1b[J", "exactly nineteen ch\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%q", want, got)
		}
	}
	if n := strings.Count(got, "\n"); n != strings.Count(block, "\n")+1 {
		t.Errorf("%d line breaks, want as many as written", n)
	}
	// Written in pieces, the cut still holds; width 0 (unknown) cuts nothing.
	b.Reset()
	for _, c := range "0123456789012345678901234567890\n" {
		f.Write([]byte(string(c)))
	}
	if w := visibleWidths(b.String())[0]; w > 19 {
		t.Errorf("written a byte at a time: %d wide", w)
	}
	b.Reset()
	(&fitWriter{w: &b, width: func() int { return 0 }}).Write([]byte(block))
	if b.String() != block {
		t.Errorf("width unknown: changed the text: %q", b.String())
	}
}

// On a real terminal the live view reads the terminal's width at each write: no line
// wraps, so redrawing in place leaves no stale line; narrowing the terminal counts.
func TestLiveWriter_FitsTheTerminalsWidth(t *testing.T) {
	p := ptytest.Open(t)
	a := &app{stdout: p.Slave, stdoutFD: int(p.Slave.Fd()), stdoutTTY: true}
	w := a.liveWriter()
	long := strings.Repeat("x", 200)
	w.Write([]byte(long + "\nend80\n"))
	out := p.ReadUntil(t, "end80")
	if ws := visibleWidths(out); ws[0] != 79 || !strings.HasSuffix(strings.TrimRight(strings.Split(out, "\n")[0], "\r"), "…") {
		t.Errorf("80 columns: first line %d wide: %q", ws[0], out)
	}
	p.Resize(t, 30)
	w.Write([]byte(long + "\nend30\n"))
	out = p.ReadUntil(t, "end30")
	lines := strings.Split(out, "\n")
	if ws := visibleWidths(lines[2]); ws[0] != 29 {
		t.Errorf("30 columns: %d wide: %q", ws[0], lines[2])
	}
	// Not a terminal: the writer is stdout itself, untouched.
	var b strings.Builder
	if (&app{stdout: &b, stdoutFD: -1}).liveWriter() != &b {
		t.Error("not a terminal: the output is wrapped")
	}
}
