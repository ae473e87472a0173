package usage_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/usage"
)

// aBook holds every kind of row: created, changed with its before, leased, with no
// user, one and several.
func aBook() *usage.Book {
	b := usage.NewBook(nil)
	join(b, claim, "a", "ra")
	join(b, claim, "b", "rb")
	b.Note(usage.Note{Key: claim, Portal: "a", Creating: true})
	join(b, pub, "a", "ra")
	b.Note(usage.Note{Key: pub, Portal: "a", Changing: true, Before: &dcrflow.PublicationSettings{AuthStrategyIDs: []string{"s1"}, Visibility: "private", AutoApprove: true}})
	join(b, scope, "a", "ra")
	leave(b, scope, "a", "ra") // the last: leased until t0 + LeaseTTL
	join(b, usage.Key{Kind: dcrflow.KindAuthStrategy, Name: "ünïcode/strategy"}, "c", "rc")
	return b
}

// A packed book reads back as it was, in rows or as the JSON of records packed before.
func TestState_PackedBookReadsBackAsItWas(t *testing.T) {
	b := aBook()
	var s usage.State
	if err := s.Pack(b); err != nil {
		t.Fatal(err)
	}
	back, err := s.Book()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.Snapshot(), b.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("after the round trip:\n%+v\nwant\n%+v", got, want)
	}
	if l := leave(back, scope, "a", "ra"); !l.Last || back.Snapshot()[len(back.Snapshot())-1].Lease == nil {
		t.Fatalf("the lease did not survive: %+v", l)
	}
	old := usage.State{Packed: gzipped(t, b.Snapshot())}
	fromOld, err := old.Book()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fromOld.Snapshot(), b.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("a book packed as JSON:\n%+v\nwant\n%+v", got, want)
	}
}

// A packed book cut short or corrupted anywhere is refused with an error, never a
// panic, and never read as a smaller book.
func TestState_CorruptPackedBookIsRefused(t *testing.T) {
	var s usage.State
	if err := s.Pack(aBook()); err != nil {
		t.Fatal(err)
	}
	raw := gunzipped(t, s.Packed)
	for cut := 1; cut < len(raw); cut++ {
		if _, err := (usage.State{Packed: gzipped(t, json.RawMessage(nil), raw[:cut]...)}).Book(); err == nil {
			t.Fatalf("a book cut at byte %d of %d was read", cut, len(raw))
		}
	}
	huge := append([]byte{'B'}, 0xff, 0xff, 0xff, 0xff, 0x0f) // 4 billion rows in 5 bytes
	if _, err := (usage.State{Packed: gzipped(t, json.RawMessage(nil), huge...)}).Book(); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("a row count beyond the bytes: %v", err)
	}
	if _, err := (usage.State{Domain: "konnect", Packed: []byte("not gzip")}).Book(); err == nil || !strings.Contains(err.Error(), "usage record konnect") {
		t.Fatalf("not gzip: %v", err)
	}
}

// gzipped packs v as JSON, or raw when given.
func gzipped(t *testing.T, v any, raw ...byte) []byte {
	t.Helper()
	if raw == nil {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return buf.Bytes()
}

func gunzipped(t *testing.T, packed []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(packed))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkState_Book is what reading a packed book costs, per resource, in rows
// and as the JSON of records packed before: a record reads its whole book at each
// replay, and a Konnect record of a 10,000-portal fleet holds about 6,000.
func BenchmarkState_Book(b *testing.B) {
	book := usage.NewBook(nil)
	for i := range 6000 {
		k := usage.Key{Kind: dcrflow.KindPublication, Name: fmt.Sprintf("a1b2c3d4-0000-4000-8000-%012d/5f0c6e2a-1b3d-4c5e-8f7a-%012d", i%60, i)}
		book.Join(usage.Join{Key: k, Portal: fmt.Sprintf("bench-%d", i), Run: fmt.Sprintf("0193a4f2-7c1e-7d3b-9a51-%012d", i)}, time.Time{})
		book.Note(usage.Note{Key: k, Changing: true})
	}
	var rows usage.State
	if err := rows.Pack(book); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_ = json.NewEncoder(zw).Encode(book.Snapshot())
	_ = zw.Close()
	for _, c := range []struct {
		name  string
		state usage.State
	}{{"rows", rows}, {"json", usage.State{Packed: buf.Bytes()}}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.state.Book(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(c.state.Packed)), "packed-bytes")
		})
	}
}

// A book with nothing in it packs to nothing (no compressor for the many records
// that rebuild from nothing) and reads back empty.
func TestState_EmptyBookPacksToNothing(t *testing.T) {
	s := usage.State{Domain: "konnect", Entries: []usage.Entry{{Key: claim}}}
	if err := s.Pack(usage.NewBook(nil)); err != nil {
		t.Fatal(err)
	}
	if s.Packed != nil || s.Entries != nil {
		t.Fatalf("an empty book packed to %d bytes and %d entries", len(s.Packed), len(s.Entries))
	}
	b, err := s.Book()
	if err != nil || b.Len() != 0 {
		t.Fatalf("read back: %d entries, %v", b.Len(), err)
	}
}
