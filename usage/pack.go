package usage

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dcrflow/dcrflow"
)

// A record's whole book is decoded each time its workflow is replayed (a worker that
// lost its cache, a workflow task the server failed), so a domain with thousands of
// portals must decode fast and light. The book is therefore packed in rows of
// length-prefixed strings, gzipped, and read back as substrings of one string: one
// allocation for all its text, none a field. Books packed before (gzipped JSON
// entries) are still read.

// packVersion starts a packed book in rows (gzipped JSON starts with '[').
const packVersion = 'B'

// maxPacked bounds what a packed book may inflate to: far beyond any real domain (a
// million resources), and a bound on what a corrupt one can cost.
const maxPacked = 256 << 20

// Entry flags in a row.
const (
	rowCreated = 1 << iota
	rowChanged
	rowBefore
	rowLease
)

// Pack stores a book's entries gzipped in the state, so that a domain with thousands
// of portals stays far below Temporal's payload limits when it continues as new.
func (s *State) Pack(b *Book) error {
	if len(b.entries) == 0 { // most records rebuild from nothing: no compressor for them
		s.Entries, s.Packed = nil, nil
		return nil
	}
	var raw []byte
	raw = append(raw, packVersion)
	raw = binary.AppendUvarint(raw, uint64(len(b.entries)))
	for _, k := range b.keys() {
		e := b.entries[k]
		raw = appendString(raw, string(k.Kind))
		raw = appendString(raw, k.Name)
		flags := byte(0)
		if e.created {
			flags |= rowCreated
		}
		if e.changed {
			flags |= rowChanged
		}
		if e.before != nil {
			flags |= rowBefore
		}
		if e.lease != nil {
			flags |= rowLease
		}
		raw = append(raw, flags)
		if e.before != nil {
			before, err := json.Marshal(e.before)
			if err != nil {
				return err
			}
			raw = appendString(raw, string(before))
		}
		if e.lease != nil {
			raw = appendString(raw, e.lease.Portal)
			raw = appendString(raw, e.lease.Run)
			raw = binary.AppendVarint(raw, e.lease.Until.UnixNano())
		}
		raw = binary.AppendUvarint(raw, uint64(len(e.users)))
		for _, u := range e.users {
			raw = appendString(raw, u.portal)
			raw = appendString(raw, u.run)
		}
	}
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&buf)
	if _, err := zw.Write(raw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	s.Entries, s.Packed = nil, buf.Bytes()
	return nil
}

// gzipWriters keeps compressors for reuse: each holds about 800 KB, and a worker
// packs books at every record's continue-as-new and rebuild.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// keys are the book's keys in a stable order.
func (b *Book) keys() []Key {
	keys := make([]Key, 0, len(b.entries))
	for k := range b.entries {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y Key) int {
		if c := strings.Compare(string(x.Kind), string(y.Kind)); c != 0 {
			return c
		}
		return strings.Compare(x.Name, y.Name)
	})
	return keys
}

// Book is the state's entries (packed or not) as a Book.
func (s State) Book() (*Book, error) {
	if len(s.Packed) == 0 {
		return NewBook(s.Entries), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(s.Packed))
	if err != nil {
		return nil, fmt.Errorf("usage record %s: %w", s.Domain, err)
	}
	// One buffer, sized by the size gzip keeps in its last 4 bytes, becomes the text
	// every string of the book is cut from.
	var text strings.Builder
	// (a hint only: a corrupt one is bounded by what gzip can inflate a stream to).
	text.Grow(min(int(binary.LittleEndian.Uint32(s.Packed[max(len(s.Packed)-4, 0):])), 1100*len(s.Packed), maxPacked))
	_, err = io.Copy(&text, io.LimitReader(zr, maxPacked+1))
	if err == nil && text.Len() > maxPacked {
		err = fmt.Errorf("packed book inflates beyond %d MiB", maxPacked>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("usage record %s: %w", s.Domain, err)
	}
	raw := text.String()
	var b *Book
	if len(raw) > 0 && raw[0] == packVersion {
		b, err = unpackRows(raw[1:])
	} else {
		var packed []Entry
		if err = json.Unmarshal([]byte(raw), &packed); err == nil {
			b = NewBook(packed)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("usage record %s: %w", s.Domain, err)
	}
	for _, e := range s.Entries { // entries beside a packed book (none today) come after it
		b.put(e)
	}
	return b, nil
}

// unpackRows reads the rows Pack wrote; every string is a substring of text.
func unpackRows(text string) (*Book, error) {
	r := rowReader{text: text}
	n := r.count()
	b := &Book{entries: make(map[Key]*entry, min(n, len(text)))}
	for range n {
		k := Key{Kind: dcrflow.Kind(r.string()), Name: r.string()}
		if kind, ok := kinds[k.Kind]; ok {
			k.Kind = kind
		}
		flags := r.byte()
		e := &entry{created: flags&rowCreated != 0, changed: flags&rowChanged != 0}
		if flags&rowBefore != 0 {
			var before dcrflow.PublicationSettings
			if err := json.Unmarshal([]byte(r.string()), &before); err != nil && r.err == nil {
				r.err = err
			}
			e.before = &before
		}
		if flags&rowLease != 0 {
			e.lease = &Lease{Portal: r.string(), Run: r.string()}
			e.lease.Until = time.Unix(0, r.varint()).UTC()
		}
		if users := r.count(); users > 0 {
			e.users = make([]use, users)
			for i := range e.users {
				e.users[i] = use{r.string(), r.string()}
			}
		}
		if r.err != nil {
			return nil, r.err
		}
		b.entries[k] = e
	}
	if r.err == nil && r.off != len(text) {
		r.err = errors.New("packed book: bytes after its last row")
	}
	return b, r.err
}

func appendString(raw []byte, s string) []byte {
	return append(binary.AppendUvarint(raw, uint64(len(s))), s...)
}

// rowReader reads Pack's rows; the first fault sticks and every read after it yields
// zero values.
type rowReader struct {
	text string
	off  int
	err  error
}

func (r *rowReader) fail() {
	if r.err == nil {
		r.err = fmt.Errorf("packed book: cut short or corrupt at byte %d", r.off)
	}
}

func (r *rowReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if r.off >= len(r.text) {
			break
		}
		c := r.text[r.off]
		r.off++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.fail()
	return 0
}

func (r *rowReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// count is a length that cannot exceed the bytes left (each item takes one at least).
func (r *rowReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.text)-r.off) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *rowReader) string() string {
	n := r.count()
	if r.err != nil {
		return ""
	}
	s := r.text[r.off : r.off+n]
	r.off += n
	return s
}

func (r *rowReader) byte() byte {
	if r.err != nil || r.off >= len(r.text) {
		r.fail()
		return 0
	}
	c := r.text[r.off]
	r.off++
	return c
}
