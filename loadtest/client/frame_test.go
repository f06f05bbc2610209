package client

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestParseFrameReadsTheFieldsTheGeneratorUses(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		check func(t *testing.T, f *frame)
	}{
		{"welcome with null user", `{"type":"welcome","connection_id":"c1","user_id":null,"node":"node-a","topics":[]}`,
			func(t *testing.T, f *frame) {
				if string(f.Type) != "welcome" || string(f.ConnID) != "c1" || f.UserID != nil || string(f.Node) != "node-a" {
					t.Errorf("got %+v", f)
				}
			}},
		{"event with nested data", `{"type":"event","topic":"availability:abc","seq":42,"event":"availability.changed","data":{"instructor_id":"abc","days":[{"date":"2026-12-07","open":[{"start":"09:00","end":"10:00"}]}]},"ts":"2026-12-01T10:00:00.123456Z"}`,
			func(t *testing.T, f *frame) {
				if string(f.Type) != "event" || string(f.Topic) != "availability:abc" || f.Seq != 42 || !f.HasSeq ||
					string(f.Event) != "availability.changed" || string(f.TS) != "2026-12-01T10:00:00.123456Z" {
					t.Errorf("got %+v", f)
				}
				var d map[string]any
				if err := json.Unmarshal(f.Data, &d); err != nil || d["instructor_id"] != "abc" {
					t.Errorf("data %s: %v", f.Data, err)
				}
			}},
		{"ack", `{"type":"ack","id":7,"topic":"availability:x","seq":0}`,
			func(t *testing.T, f *frame) {
				if !f.HasID || f.ID != 7 || !f.HasSeq || f.Seq != 0 || string(f.Topic) != "availability:x" {
					t.Errorf("got %+v", f)
				}
			}},
		{"error without id", `{"type":"error","code":"bad_frame","message":"not \"json\""}`,
			func(t *testing.T, f *frame) {
				if f.HasID || string(f.Code) != "bad_frame" || string(f.Message) != `not "json"` {
					t.Errorf("got %+v (message %q)", f, f.Message)
				}
			}},
		{"whitespace and key order", " {\n \"seq\" : 5 ,\t\"type\":\"reset\", \"topic\":\"t\" } ",
			func(t *testing.T, f *frame) {
				if string(f.Type) != "reset" || f.Seq != 5 || string(f.Topic) != "t" {
					t.Errorf("got %+v", f)
				}
			}},
		{"escaped key and unicode value", `{"ty\u0070e":"ev\u00e9nt","x":[1,{"a":"]}"}],"seq":-3}`,
			func(t *testing.T, f *frame) {
				if string(f.Type) != "evént" || f.Seq != -3 {
					t.Errorf("got type %q seq %d", f.Type, f.Seq)
				}
			}},
		{"empty object", `{}`, func(t *testing.T, f *frame) {
			if f.Type != nil || f.HasSeq {
				t.Errorf("got %+v", f)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var f frame
			if err := parseFrame([]byte(c.in), &f); err != nil {
				t.Fatalf("parse %s: %v", c.in, err)
			}
			c.check(t, &f)
		})
	}
}

func TestParseFrameRejectsMalformedInput(t *testing.T) {
	for _, in := range []string{``, `[]`, `{`, `{"type"}`, `{"type":}`, `{"type":"x"`, `{"type":"x",}`, `{"seq":"5"}`,
		`{"seq":1.5}`, `{"type":5}`, `{"a":tru}`, `{"a":"unterminated}`, `{"a":1 "b":2}`, `{"a":"\"}`} {
		var f frame
		if err := parseFrame([]byte(in), &f); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

func TestJSONStringFieldFindsTopLevelKeysOnly(t *testing.T) {
	obj := []byte(`{"student":{"id":"nested"},"id":"b-1","instructor_id":"i-9","price_cents":4500}`)
	if got := string(jsonStringField(obj, "id")); got != "b-1" {
		t.Errorf("id = %q", got)
	}
	if got := string(jsonStringField(obj, "instructor_id")); got != "i-9" {
		t.Errorf("instructor_id = %q", got)
	}
	if got := jsonStringField(obj, "missing"); got != nil {
		t.Errorf("missing = %q", got)
	}
	if got := jsonStringField([]byte(`null`), "id"); got != nil {
		t.Errorf("from null = %q", got)
	}
}

func TestAppendSubscribeIsValidJSONOfTheProtocol(t *testing.T) {
	cases := []struct {
		since int64
		want  map[string]any
	}{
		{-1, map[string]any{"id": 3.0, "type": "subscribe", "topic": "availability:\"q\"\n"}},
		{41, map[string]any{"id": 3.0, "type": "subscribe", "topic": "availability:\"q\"\n", "since": 41.0}},
	}
	for _, c := range cases {
		b := appendSubscribe(nil, 3, "availability:\"q\"\n", c.since)
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if len(got) != len(c.want) {
			t.Fatalf("%s: got %v want %v", b, got, c.want)
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: %s = %v, want %v", b, k, got[k], v)
			}
		}
	}
}

// FuzzParseFrame checks the scanner never panics and agrees with
// encoding/json on the string fields whenever both accept the input.
func FuzzParseFrame(f *testing.F) {
	f.Add(`{"type":"event","topic":"availability:a","seq":1,"event":"e","data":{"id":"x"},"ts":"2026-01-01T00:00:00Z"}`)
	f.Add(`{"type":"ack","id":1,"topic":"t","seq":2}`)
	f.Add(`{"type":"w\"x","data":[1,2,{"z":null}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		var fr frame
		err := parseFrame([]byte(in), &fr)
		// A map keeps keys exact (a struct would match them case-insensitively).
		var ref map[string]any
		// encoding/json replaces invalid UTF-8; the scanner passes bytes through.
		if !utf8.ValidString(in) || json.Unmarshal([]byte(in), &ref) != nil || err != nil {
			return
		}
		for key, got := range map[string][]byte{"type": fr.Type, "topic": fr.Topic, "ts": fr.TS} {
			if want, ok := ref[key].(string); ok && want != string(got) {
				t.Errorf("%s: json %q, scanner %q", key, want, got)
			}
		}
	})
}

var benchEvent = []byte(`{"type":"event","topic":"availability:7d1f0c52-3c1e-4f7a-9a38-0d2b4f7e8c11","seq":123456,"event":"availability.changed","data":{"instructor_id":"7d1f0c52-3c1e-4f7a-9a38-0d2b4f7e8c11","days":[{"date":"2026-12-07","open":[{"start":"09:00","end":"10:00"},{"start":"11:00","end":"17:00"}]}]},"ts":"2026-12-01T10:00:00.123456Z"}`)

func BenchmarkParseFrameEvent(b *testing.B) {
	var f frame
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if err := parseFrame(benchEvent, &f); err != nil || f.Seq != 123456 {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodingJSONEvent is the baseline the scanner replaces.
func BenchmarkEncodingJSONEvent(b *testing.B) {
	var f struct {
		Type  string          `json:"type"`
		Topic string          `json:"topic"`
		Seq   int64           `json:"seq"`
		Event string          `json:"event"`
		Data  json.RawMessage `json:"data"`
		TS    string          `json:"ts"`
	}
	b.SetBytes(int64(len(benchEvent)))
	b.ReportAllocs()
	for b.Loop() {
		if err := json.Unmarshal(benchEvent, &f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendSubscribe(b *testing.B) {
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendSubscribe(buf[:0], 12, "availability:7d1f0c52-3c1e-4f7a-9a38-0d2b4f7e8c11", 41)
	}
}
