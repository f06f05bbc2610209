package report

import (
	"bytes"
	"instainstru/loadtest/measure"
	"strings"
	"testing"
	"time"
)

func TestHTMLReportEscapesTextAndDrawsEveryLatency(t *testing.T) {
	h := &measure.Histogram{}
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	res := &Result{
		Scenario: "fanout", RunID: "r1", Nodes: []string{"http://127.0.0.1:1"},
		Targets:  []TargetResult{{Name: `<script>alert(1)</script>`, Value: "1", Limit: "2", Pass: false}},
		Latency:  map[string]*measure.Histogram{measure.HFanoutLast: h},
		Failures: []string{"lost 1 & more"},
	}
	var b bytes.Buffer
	if err := res.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "lost 1 &amp; more", "<polyline", "<rect x=", `class="fail">MISS`, "<title>1</title>"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(out, "<script>") {
		t.Error("a target name reached the page unescaped")
	}
}

func TestMarkdownReportListsTargetsAndMissingScenarios(t *testing.T) {
	res := &Result{Scenario: "fanout", Pass: true, Targets: []TargetResult{{Name: "fan-out p50", Value: "40ms", Limit: "≤ 50ms", Pass: true}},
		Latency: map[string]*measure.Histogram{}}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, []*Result{res}, []string{"idle.json: no such file"}, machine{Cores: "2", Go: "go1"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"| fanout | fan-out p50 | 40ms | ≤ 50ms | pass |", "| — | scenario did not complete | idle.json: no such file | | **FAIL** |", "| whole benchmark took | 1m0s |", "## fanout"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}
