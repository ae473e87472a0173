package konnect

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// maxBody caps request bodies; every body this API takes is small.
const maxBody = 1 << 20

// decodeObject reads the request body as one JSON object. On failure it writes the
// 400 and returns ok=false.
func decodeObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeInvalid(w, []InvalidParameter{{Field: "body", Rule: "invalid", Source: "body", Reason: "is too large"}})
			return nil, false
		}
		writeInvalid(w, []InvalidParameter{{Field: "body", Rule: "invalid", Source: "body", Reason: "could not be read"}})
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		writeInvalid(w, []InvalidParameter{{Field: "body", Rule: "invalid", Source: "body", Reason: "must be valid JSON"}})
		return nil, false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		writeInvalid(w, []InvalidParameter{wrongType("body", "is_object", "an object")})
		return nil, false
	}
	return obj, true
}

// checker collects invalid parameters while a body is validated.
type checker struct{ params []InvalidParameter }

func (c *checker) add(p InvalidParameter) { c.params = append(c.params, p) }

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// unknown reports every property of obj outside allowed, in a stable order.
func (c *checker) unknown(obj map[string]any, prefix string, allowed ...string) {
	var extra []string
	for k := range obj {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		c.add(unknownProperty(join(prefix, k)))
	}
}

// str validates an optional or required string property with length bounds
// (max 0 = unbounded). present is false when the property is absent or invalid.
func (c *checker) str(obj map[string]any, key, field string, req bool, min, max int) (string, bool) {
	v, ok := obj[key]
	if !ok {
		if req {
			c.add(required(field))
		}
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		c.add(wrongType(field, "is_string", "a string"))
		return "", false
	}
	n := len([]rune(s))
	if n < min {
		c.add(minLength(field, min))
		return "", false
	}
	if max > 0 && n > max {
		c.add(maxLength(field, max))
		return "", false
	}
	return s, true
}

// urlString validates a string property that must be an absolute http(s) URL.
func (c *checker) urlString(obj map[string]any, key, field string, req bool, max int) (string, bool) {
	s, ok := c.str(obj, key, field, req, 1, max)
	if !ok {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.add(InvalidParameter{Field: field, Rule: "invalid", Source: "body", Reason: "must be a valid URL"})
		return "", false
	}
	return s, true
}

// strList validates an array of strings with item and length bounds.
func (c *checker) strList(obj map[string]any, key, field string, req bool, minN, maxN, itemMax int) ([]string, bool) {
	v, ok := obj[key]
	if !ok {
		if req {
			c.add(required(field))
		}
		return nil, false
	}
	arr, isArr := v.([]any)
	if !isArr {
		c.add(wrongType(field, "is_array", "an array"))
		return nil, false
	}
	if len(arr) < minN {
		c.add(minItems(field, minN))
		return nil, false
	}
	if maxN > 0 && len(arr) > maxN {
		c.add(maxItems(field, maxN))
		return nil, false
	}
	out := make([]string, 0, len(arr))
	good := true
	for i, item := range arr {
		f := field + "[" + itoa(i) + "]"
		s, isStr := item.(string)
		switch {
		case !isStr:
			c.add(wrongType(f, "is_string", "a string"))
			good = false
		case itemMax > 0 && len([]rune(s)) > itemMax:
			c.add(maxLength(f, itemMax))
			good = false
		default:
			out = append(out, s)
		}
	}
	return out, good
}

// object returns a nested object property.
func (c *checker) object(obj map[string]any, key, field string, req bool) (map[string]any, bool) {
	v, ok := obj[key]
	if !ok {
		if req {
			c.add(required(field))
		}
		return nil, false
	}
	o, isObj := v.(map[string]any)
	if !isObj {
		c.add(wrongType(field, "is_object", "an object"))
		return nil, false
	}
	return o, true
}

func (c *checker) boolean(obj map[string]any, key, field string) (bool, bool) {
	v, ok := obj[key]
	if !ok {
		return false, false
	}
	b, isBool := v.(bool)
	if !isBool {
		c.add(wrongType(field, "is_boolean", "a boolean"))
		return false, false
	}
	return b, true
}

// Label rules from the specs' Labels schema.
var (
	labelValue       = regexp.MustCompile(`^[a-z0-9A-Z]{1}([a-z0-9A-Z-._]*[a-z0-9A-Z]+)?$`)
	reservedPrefixes = []string{"kong", "konnect", "mesh", "kic", "_"}
)

const maxLabels = 50

func labelKeyOK(k string) bool {
	if n := len([]rune(k)); n < 1 || n > 63 {
		return false
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(k, p) { // case-sensitive: "KONGCTL-namespace" is a valid key
			return false
		}
	}
	return true
}

func labelValueOK(v string) bool { return len(v) <= 63 && labelValue.MatchString(v) }

// labels validates a Labels object. With update (LabelsUpdate) a null value means
// "remove this key" and is returned as a nil pointer; a null object clears all.
func (c *checker) labels(obj map[string]any, key string, update bool) (set map[string]*string, clear, present bool) {
	v, ok := obj[key]
	if !ok {
		return nil, false, false
	}
	if v == nil && update {
		return nil, true, true
	}
	o, isObj := v.(map[string]any)
	if !isObj {
		c.add(wrongType(key, "is_object", "an object"))
		return nil, false, false
	}
	if len(o) > maxLabels {
		n := maxLabels
		c.add(InvalidParameter{Field: key, Rule: "max", Maximum: &n, Source: "body", Reason: "must not have more than 50 labels"})
		return nil, false, false
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	set = make(map[string]*string, len(o))
	good := true
	for _, k := range keys {
		f := key + "." + k
		if !labelKeyOK(k) {
			c.add(InvalidParameter{Field: f, Rule: "is_label", Source: "body",
				Reason: "keys must be 1-63 characters and cannot start with kong, konnect, mesh, kic or _"})
			good = false
			continue
		}
		if o[k] == nil && update {
			set[k] = nil
			continue
		}
		s, isStr := o[k].(string)
		if !isStr {
			c.add(wrongType(f, "is_string", "a string"))
			good = false
			continue
		}
		if !labelValueOK(s) {
			c.add(InvalidParameter{Field: f, Rule: "is_label", Source: "body",
				Reason: "values must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending alphanumeric"})
			good = false
			continue
		}
		set[k] = &s
	}
	return set, false, good
}

// applyLabels returns a new map: base with the update applied (copy on write, so
// that maps handed out in earlier answers never change).
func applyLabels(base map[string]string, set map[string]*string, clear bool) map[string]string {
	out := map[string]string{}
	if !clear {
		for k, v := range base {
			out[k] = v
		}
	}
	for k, v := range set {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
