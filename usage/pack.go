package usage

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
)

// Pack stores a book's entries gzipped in the state, so that a domain with thousands
// of portals stays far below Temporal's payload limits when it continues as new.
func (s *State) Pack(b *Book) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(b.Snapshot()); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	s.Entries, s.Packed = nil, buf.Bytes()
	return nil
}

// Book is the state's entries (packed or not) as a Book.
func (s State) Book() (*Book, error) {
	entries := s.Entries
	if len(s.Packed) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(s.Packed))
		if err != nil {
			return nil, fmt.Errorf("usage record %s: %w", s.Domain, err)
		}
		var packed []Entry
		if err := json.NewDecoder(zr).Decode(&packed); err != nil {
			return nil, fmt.Errorf("usage record %s: %w", s.Domain, err)
		}
		entries = append(packed, entries...)
	}
	return NewBook(entries), nil
}
