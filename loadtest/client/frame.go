package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// frame is one server → client WebSocket frame, decoded only as far as the
// generator needs. String fields are slices of the read buffer (valid until
// the buffer is reused): callers copy what they keep. Decoding allocates
// nothing for the frames that matter (events, acks), which keeps the
// generator's CPU off the server's two cores when ten thousand watchers
// receive at once.
type frame struct {
	Type    []byte
	Topic   []byte
	Event   []byte
	TS      []byte
	Code    []byte
	Message []byte
	ConnID  []byte
	UserID  []byte
	Node    []byte
	Seq     int64
	ID      int64
	HasSeq  bool
	HasID   bool
	Data    []byte // raw JSON value of "data", nil when absent
}

var errBadFrame = errors.New("malformed frame")

// parseFrame decodes the top-level object in b into f (reset first).
func parseFrame(b []byte, f *frame) error {
	*f = frame{}
	p := skipWS(b, 0)
	if p >= len(b) || b[p] != '{' {
		return errBadFrame
	}
	p = skipWS(b, p+1)
	if p < len(b) && b[p] == '}' {
		return nil
	}
	for {
		if p >= len(b) || b[p] != '"' {
			return errBadFrame
		}
		key, next, esc, err := scanString(b, p)
		if err != nil {
			return err
		}
		if esc {
			key = unescape(key)
		}
		p = skipWS(b, next)
		if p >= len(b) || b[p] != ':' {
			return errBadFrame
		}
		p = skipWS(b, p+1)
		if p >= len(b) {
			return errBadFrame
		}
		start := p
		end, err := skipValue(b, p)
		if err != nil {
			return err
		}
		v := b[start:end]
		switch string(key) {
		case "type":
			f.Type, err = stringValue(v)
		case "topic":
			f.Topic, err = stringValue(v)
		case "event":
			f.Event, err = stringValue(v)
		case "ts":
			f.TS, err = stringValue(v)
		case "code":
			f.Code, err = stringValue(v)
		case "message":
			f.Message, err = stringValue(v)
		case "connection_id":
			f.ConnID, err = stringValue(v)
		case "user_id":
			f.UserID, err = stringValue(v)
		case "node":
			f.Node, err = stringValue(v)
		case "seq":
			f.Seq, err = intValue(v)
			f.HasSeq = err == nil
		case "id":
			f.ID, err = intValue(v)
			f.HasID = err == nil
		case "data":
			f.Data = v
		}
		if err != nil {
			return fmt.Errorf("%w: field %q: %v", errBadFrame, key, err)
		}
		p = skipWS(b, end)
		if p >= len(b) {
			return errBadFrame
		}
		switch b[p] {
		case ',':
			p = skipWS(b, p+1)
		case '}':
			return nil
		default:
			return errBadFrame
		}
	}
}

// stringValue returns the contents of a JSON string value (nil for null).
func stringValue(v []byte) ([]byte, error) {
	if len(v) == 4 && string(v) == "null" {
		return nil, nil
	}
	if len(v) < 2 || v[0] != '"' {
		return nil, errors.New("not a string")
	}
	s, _, esc, err := scanString(v, 0)
	if err != nil {
		return nil, err
	}
	if esc {
		return unescape(s), nil
	}
	return s, nil
}

// intValue parses a JSON integer.
func intValue(v []byte) (int64, error) {
	if len(v) == 0 {
		return 0, errors.New("empty number")
	}
	neg := false
	i := 0
	if v[0] == '-' {
		neg = true
		i = 1
	}
	if i >= len(v) {
		return 0, errors.New("not an integer")
	}
	var n int64
	for ; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, errors.New("not an integer")
		}
		if n > (1<<63-1)/10 {
			return 0, errors.New("integer overflow")
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// unescape decodes a string body that contains escapes (rare: ids, topics
// and timestamps never need them) via encoding/json.
func unescape(body []byte) []byte {
	q := make([]byte, 0, len(body)+2)
	q = append(q, '"')
	q = append(q, body...)
	q = append(q, '"')
	var s string
	if json.Unmarshal(q, &s) != nil {
		return body
	}
	return []byte(s)
}

func skipWS(b []byte, p int) int {
	for p < len(b) {
		switch b[p] {
		case ' ', '\t', '\n', '\r':
			p++
		default:
			return p
		}
	}
	return p
}

// scanString reads the string starting at b[p] == '"'; it returns the body
// without quotes, the index after the closing quote, and whether the body
// holds escapes. It finds quotes with IndexByte (vectorised), since string
// bodies are most of a frame's bytes.
func scanString(b []byte, p int) (body []byte, next int, esc bool, err error) {
	i := p + 1
	for {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return nil, 0, false, errBadFrame
		}
		end := i + q
		// The quote is escaped when an odd number of backslashes precede it.
		n := 0
		for k := end - 1; k > p && b[k] == '\\'; k-- {
			n++
		}
		if n > 0 {
			esc = true
		}
		if n%2 == 0 {
			if !esc && bytes.IndexByte(b[p+1:end], '\\') >= 0 {
				esc = true
			}
			return b[p+1 : end], end + 1, esc, nil
		}
		i = end + 1
	}
}

// structural marks the bytes skipValue must look at inside objects and arrays.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// skipValue returns the index just after the JSON value at b[p].
func skipValue(b []byte, p int) (int, error) {
	if p >= len(b) {
		return 0, errBadFrame
	}
	switch c := b[p]; {
	case c == '"':
		_, next, _, err := scanString(b, p)
		return next, err
	case c == '{' || c == '[':
		depth := 0
		for i := p; i < len(b); i++ {
			if !structural[b[i]] {
				continue
			}
			switch b[i] {
			case '"':
				_, next, _, err := scanString(b, i)
				if err != nil {
					return 0, err
				}
				i = next - 1
			case '{', '[':
				depth++
			default:
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
		}
		return 0, errBadFrame
	case c == 't':
		return literal(b, p, "true")
	case c == 'f':
		return literal(b, p, "false")
	case c == 'n':
		return literal(b, p, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		i := p + 1
		for i < len(b) {
			c := b[i]
			if (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
				i++
				continue
			}
			break
		}
		return i, nil
	}
	return 0, errBadFrame
}

func literal(b []byte, p int, lit string) (int, error) {
	if len(b)-p < len(lit) || string(b[p:p+len(lit)]) != lit {
		return 0, errBadFrame
	}
	return p + len(lit), nil
}

// appendJSONString appends s as a JSON string literal.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// appendSubscribe encodes a subscribe frame; since < 0 means live only.
func appendSubscribe(dst []byte, id int64, topic string, since int64) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, id, 10)
	dst = append(dst, `,"type":"subscribe","topic":`...)
	dst = appendJSONString(dst, topic)
	if since >= 0 {
		dst = append(dst, `,"since":`...)
		dst = strconv.AppendInt(dst, since, 10)
	}
	return append(dst, '}')
}
