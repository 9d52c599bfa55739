package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// MaxBody is the largest request body accepted (SPEC §4.8).
const MaxBody = 1 << 20

// MaxImportBody is the limit for a ledger import, whose 10,000 events do
// not fit in MaxBody.
const MaxImportBody = 8 << 20

// readBody reads the whole body, refusing more than MaxBody.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readBodyUpTo(w, r, MaxBody)
}

func readBodyUpTo(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, seatkeeper.Errorf(seatkeeper.ETooLarge, "the body is larger than %d bytes", limit)
	}
	if err != nil {
		return nil, seatkeeper.Errorf(seatkeeper.EInvalid, "cannot read the body: %v", err)
	}
	return body, nil
}

// DecodeJSON decodes one JSON object into v strictly: unknown fields,
// trailing data and wrong types are refused with a message naming the
// field. An empty body decodes as {}.
func DecodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return seatkeeper.Errorf(seatkeeper.EInvalid, "invalid JSON body: %s", describeJSONError(err))
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return seatkeeper.Errorf(seatkeeper.EInvalid, "invalid JSON body: extra data after the object")
	}
	names, err := uniqueNames(body)
	if err != nil {
		return err
	}
	return exactFields(names, v)
}

// uniqueNames refuses an object, at any depth, that gives a name twice
// (RFC 8259 §4 says names should be unique; I-JSON, RFC 7493, that they
// must be): encoding/json keeps the last, while another reader of the same
// body, a proxy's say, may keep the first. body has been decoded already:
// a syntax error is not this function's to report. It returns the names
// of the outermost object, in their order.
func uniqueNames(body []byte) ([]string, error) {
	type object struct {
		names   map[string]bool
		wantKey bool
	}
	var stack []*object // nil for an array
	var outer []string
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return outer, nil // the end, or an error the decode reported
		}
		var top *object
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &object{names: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, nil)
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			} else {
				top = nil
			}
		default:
			if top != nil && top.wantKey {
				name, _ := tok.(string)
				if top.names[name] {
					return nil, seatkeeper.Errorf(seatkeeper.EInvalid, "invalid JSON body: the name %q is given twice in one object", name)
				}
				top.names[name], top.wantKey = true, false
				if len(stack) == 1 {
					outer = append(outer, name)
				}
				continue
			}
		}
		if top != nil { // a value of the object ended: a name comes next
			top.wantKey = true
		}
	}
}

// exactFields refuses top-level names (uniqueNames) that match a field
// only when case is ignored, as encoding/json would otherwise accept
// "DISPLAY_NAME".
func exactFields(keys []string, v any) error {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	names := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		names[name] = true
	}
	for _, k := range keys {
		if !names[k] {
			return seatkeeper.Errorf(seatkeeper.EInvalid, "invalid JSON body: unknown field %q (names are lower case)", k)
		}
	}
	return nil
}

func describeJSONError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return fmt.Sprintf("expected %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	case errors.As(err, new(*time.ParseError)), strings.HasPrefix(err.Error(), "Time.UnmarshalJSON"):
		return "times are RFC 3339 text, like 2026-11-01T00:00:00Z"
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return "unknown field " + f
	}
	return strings.TrimPrefix(msg, "json: ")
}

func jsonKind(k string) string {
	switch k {
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "a list"
	case "string":
		return "text"
	case "bool":
		return "true or false"
	case "int", "int64", "int32", "uint", "uint64":
		return "a whole number"
	}
	return k
}
