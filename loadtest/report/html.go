package report

import (
	"fmt"
	htmltemplate "html/template"
	"instainstru/loadtest/measure"
	"io"
	"math"
	"strings"
	"time"
)

// plotColors are the series colours of the percentile chart.
var plotColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

// htmlReport is what htmlTmpl renders.
type htmlReport struct {
	*Result
	Started   string
	Counts    [][2]string
	Latencies []latencyLine
	Plots     []plotSection
	Hists     []histSection
}

type plotSection struct {
	Title string
	Plot  percentile
}

type histSection struct {
	Label string
	Plot  histogram
}

// WriteHTML writes a self-contained report (inline CSS and SVG, no
// scripts, nothing fetched) with the run's figures, a percentile plot of
// every latency and a histogram of each.
func (res *Result) WriteHTML(w io.Writer) error {
	d := htmlReport{Result: res, Started: res.StartedAt.UTC().Format(time.RFC3339), Latencies: latencyLines(res)}
	row := func(k string, v any) { d.Counts = append(d.Counts, [2]string{k, fmt.Sprint(v)}) }
	c := res.Connections
	row("connections open / requested", fmt.Sprintf("%d / %d", c.Open, c.Requested))
	row("connection setup rate", fmt.Sprintf("%.0f /s", c.PerSecond))
	row("reconnects", c.Reconnects)
	if res.Idle != nil {
		for _, n := range res.Idle.Nodes {
			row("RSS per idle connection, "+n.URL, fmt.Sprintf("%.1f KiB (%d conns, %.1f → %.1f MiB)", n.BytesPerConn/1024, n.Connections, n.RSSBefore/(1<<20), n.RSSAfter/(1<<20)))
		}
	} else {
		bk := res.Bookings
		row("booking POSTs sent (target rate / achieved)", fmt.Sprintf("%d (%.1f/s / %.1f/s)", bk.Sent, bk.TargetRate, bk.AchievedRate))
		row("created / 409 conflicts / shed (503) / errors", fmt.Sprintf("%d / %d / %d / %d", bk.Created, bk.Conflicts, bk.Shed, bk.Errors))
		row("cancelled / cancel shed (503) / cancel errors", fmt.Sprintf("%d / %d / %d", bk.Cancelled, bk.CancelShed, bk.CancelErrors))
		dl := res.Delivery
		row("subscriptions", dl.Subscriptions)
		row("availability events expected / received", fmt.Sprintf("%d / %d", dl.ExpectedEvents, dl.ReceivedEvents))
		row("lost / duplicated", fmt.Sprintf("%d / %d", dl.Lost, dl.Duplicated))
		row("booking pushes expected / received / lost / duplicated", fmt.Sprintf("%d / %d / %d / %d", dl.BookingPushExpected, dl.BookingPushReceived, dl.BookingPushLost, dl.BookingPushDup))
		row("fan-out events complete / total, receivers per event", fmt.Sprintf("%d / %d, %.1f", res.Fanout.CompleteEvents, res.Fanout.Events, res.Fanout.AvgReceivers))
	}
	if len(d.Latencies) > 0 {
		label := map[string]string{}
		for _, r := range latencyRows {
			label[r.key] = r.label
		}
		for _, g := range plotGroups {
			var rows []struct{ key, label string }
			for _, k := range g.keys {
				if h := res.Latency[k]; h != nil && h.Count() > 0 {
					rows = append(rows, struct{ key, label string }{k, label[k]})
				}
			}
			if len(rows) > 0 {
				d.Plots = append(d.Plots, plotSection{g.title, percentilePlot(res.Latency, rows)})
			}
		}
		for _, r := range latencyRows {
			if h := res.Latency[r.key]; h != nil && h.Count() > 0 {
				d.Hists = append(d.Hists, histSection{r.label, histogramPlot(h)})
			}
		}
	}
	return htmlTmpl.Execute(w, d)
}

var htmlTmpl = htmltemplate.Must(htmltemplate.New("report").Funcs(reportFuncs).Parse(`<!doctype html><html><head><meta charset="utf-8"><title>loadtest {{.Scenario}} {{.RunID}}</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.pass{color:#1a7f37;font-weight:bold}
.fail{color:#c62828;font-weight:bold}svg{background:#fff;border:1px solid #ddd;margin:4px 0 16px}
.grid{display:flex;flex-wrap:wrap;gap:12px}.grid div{flex:0 0 520px}code{background:#f5f5f5;padding:1px 4px}
</style></head><body>
<h1>Load test: {{.Scenario}} {{if .Pass}}<span class="pass">PASS</span>{{else}}<span class="fail">FAIL</span>{{end}}</h1>
<p>Run <code>{{.RunID}}</code> started {{.Started}} against {{join .Nodes ", "}}; load {{printf "%.1f" .LoadSecs}} s, drain {{printf "%.2f" .DrainSecs}} s.</p>
{{- range .Failures}}
<p class="fail">FAILED: {{.}}</p>
{{- end}}
{{- range .Warnings}}
<p>warning: {{.}}</p>
{{- end}}
<h2>Targets (SPEC §7)</h2><table><tr><th>target</th><th>value</th><th>limit</th><th></th></tr>
{{- range .Targets}}
<tr><td>{{.Name}}</td><td>{{.Value}}</td><td>{{.Limit}}</td>{{if .Pass}}<td class="pass">pass</td>{{else}}<td class="fail">MISS</td>{{end}}</tr>
{{- end}}
</table>
<h2>Counts</h2><table><tr><th>what</th><th>value</th></tr>
{{- range .Counts}}
<tr><td>{{index . 0}}</td><td>{{index . 1}}</td></tr>
{{- end}}
</table>
{{- if gt .CPU.WallSecs 0.0}}
<h2>CPU and the nodes' own metrics</h2><p>Generator: {{printf "%.1f" .CPU.GeneratorSecs}} s CPU over {{printf "%.1f" .CPU.WallSecs}} s ({{printf "%.0f" (pct .CPU.GeneratorSecs .CPU.WallSecs)}}% of one core).</p><ul>
{{- $wall := .CPU.WallSecs}}
{{- range .Server}}
<li>{{summary . $wall}}</li>
{{- end}}
</ul>
{{- end}}
{{- if .Errors}}
<h2>Errors by kind</h2><table><tr><th>kind</th><th>count</th></tr>
{{- $errs := .Errors}}
{{- range errorKeys .Errors}}
<tr><td>{{.}}</td><td>{{index $errs .}}</td></tr>
{{- end}}
</table>
{{- end}}
<h2>Latency</h2><table><tr><th>metric</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>
{{- range .Latencies}}
<tr><td>{{.Label}}</td><td>{{.Count}}</td><td>{{.P50}}</td><td>{{.P90}}</td><td>{{.P99}}</td><td>{{.P999}}</td><td>{{.Max}}</td></tr>
{{- end}}
</table>
{{- if .Latencies}}
<h2>Percentile plots</h2><p>x: percentile on a log scale of 1/(1−q), as HdrHistogram plots; y: latency, log scale.</p>
{{- range .Plots}}
<h3>{{.Title}}</h3>{{template "percentile" .Plot}}
{{- end}}
<h2>Histograms</h2><div class="grid">
{{- range .Hists}}
<div><b>{{.Label}}</b><br>{{template "histogram" .Plot}}</div>
{{- end}}
</div>
{{- end}}
<p>Made by <code>go run ./cmd/loadtest</code>; the full data is in the <code>-json</code> output.</p></body></html>
{{define "percentile" -}}
<svg xmlns="http://www.w3.org/2000/svg" width="{{printf "%.0f" .W}}" height="{{printf "%.0f" .H}}" font-size="11">
{{- range .Grid}}<line x1="{{printf "%.1f" .X1}}" y1="{{printf "%.1f" .Y1}}" x2="{{printf "%.1f" .X2}}" y2="{{printf "%.1f" .Y2}}" stroke="#eee"/><text x="{{printf "%.1f" .TX}}" y="{{printf "%.1f" .TY}}" text-anchor="{{.Anchor}}">{{.Text}}</text>{{end -}}
<rect x="{{printf "%.1f" .L}}" y="{{printf "%.1f" .T}}" width="{{printf "%.1f" .PW}}" height="{{printf "%.1f" .PH}}" fill="none" stroke="#999"/>
{{- range .Series}}<polyline fill="none" stroke="{{.Color}}" stroke-width="1.6" points="{{.Points}}"/><line x1="{{printf "%.1f" .LX1}}" y1="{{printf "%.1f" .LY}}" x2="{{printf "%.1f" .LX2}}" y2="{{printf "%.1f" .LY}}" stroke="{{.Color}}" stroke-width="3"/><text x="{{printf "%.1f" .TX}}" y="{{printf "%.1f" .TY}}">{{.Label}}</text>{{end -}}
</svg>
{{- end}}
{{define "histogram" -}}
<svg xmlns="http://www.w3.org/2000/svg" width="{{printf "%.0f" .W}}" height="{{printf "%.0f" .H}}" font-size="10">
{{- range .Bars}}<rect x="{{printf "%.1f" .X}}" y="{{printf "%.1f" .Y}}" width="{{printf "%.1f" .Width}}" height="{{printf "%.1f" .Height}}" fill="#1f77b4"><title>{{.Count}}</title></rect>{{end -}}
{{- range .Ticks}}<line x1="{{printf "%.1f" .X}}" y1="{{printf "%.1f" .Y}}" x2="{{printf "%.1f" .X}}" y2="{{printf "%.1f" .Y2}}" stroke="#999"/><text x="{{printf "%.1f" .X}}" y="{{printf "%.1f" .TY}}" text-anchor="middle">{{.Text}}</text>{{end -}}
<text x="{{printf "%.1f" .LabelX}}" y="{{printf "%.1f" .PeakY}}" text-anchor="end">{{.Peak}}</text><text x="{{printf "%.1f" .LabelX}}" y="{{printf "%.1f" .ZeroY}}" text-anchor="end">0</text><line x1="{{printf "%.1f" .L}}" y1="{{printf "%.1f" .ZeroY}}" x2="{{printf "%.1f" .R}}" y2="{{printf "%.1f" .ZeroY}}" stroke="#999"/></svg>
{{- end}}
`))

// percentile is the geometry of a percentile plot (template "percentile").
type percentile struct {
	W, H, L, T, PW, PH float64
	Grid               []gridLine
	Series             []series
}

type gridLine struct {
	X1, Y1, X2, Y2, TX, TY float64
	Anchor, Text           string
}

type series struct {
	Color, Points, Label string
	LX1, LX2, LY, TX, TY float64
}

// percentilePlot lays out each series' latency against percentile, both on
// log scales (HdrHistogram's plot), so milliseconds and seconds share a chart.
func percentilePlot(hs map[string]*measure.Histogram, rows []struct{ key, label string }) percentile {
	const W, H, L, R, T, B = 1000.0, 380.0, 70.0, 260.0, 20.0, 40.0
	pw, ph := W-L-R, H-T-B
	const xmax = 5.0 // up to the 99.999th percentile
	lo, hi := math.Inf(1), 0.0
	for _, r := range rows {
		h := hs[r.key]
		lo = math.Min(lo, math.Max(float64(h.Quantile(0)), 1e3))
		hi = math.Max(hi, float64(h.Max()))
	}
	d0, d1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(math.Max(hi, lo*10)))
	y := func(v float64) float64 {
		f := (math.Log10(math.Max(v, 1)) - d0) / (d1 - d0)
		return T + ph - ph*math.Max(0, math.Min(f, 1))
	}
	p := percentile{W: W, H: H, L: L, T: T, PW: pw, PH: ph}
	for i := 0; i <= 5; i++ {
		x := L + pw*float64(i)/xmax
		label := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"}[i]
		p.Grid = append(p.Grid, gridLine{X1: x, Y1: T, X2: x, Y2: T + ph, TX: x, TY: T + ph + 16, Anchor: "middle", Text: label})
	}
	for dd := d0; dd <= d1; dd++ {
		yy := y(math.Pow(10, dd))
		p.Grid = append(p.Grid, gridLine{X1: L, Y1: yy, X2: L + pw, Y2: yy, TX: L - 4, TY: yy + 4, Anchor: "end", Text: measure.FmtDur(time.Duration(math.Pow(10, dd)))})
	}
	for i, r := range rows {
		h := hs[r.key]
		var pts []string
		for k := 0; k <= 200; k++ {
			xv := xmax * float64(k) / 200
			q := 1 - math.Pow(10, -xv)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", L+pw*xv/xmax, y(float64(h.Quantile(q)))))
		}
		ly := T + 10 + float64(i)*16
		p.Series = append(p.Series, series{Color: plotColors[i%len(plotColors)], Points: strings.Join(pts, " "), Label: r.label,
			LX1: L + pw + 10, LX2: L + pw + 28, LY: ly, TX: L + pw + 32, TY: ly + 4})
	}
	return p
}

// plotGroups split the percentile plots into requests and deliveries.
var plotGroups = []struct {
	title string
	keys  []string
}{
	{"Requests and connection setup", []string{measure.HBookingPost, measure.HBookingService, measure.HCancelPost, measure.HGetAvailability, measure.HConnect, measure.HSubscribeAck}},
	{"Pushes: commit → receipt, and fan-out completion", []string{measure.HPushSameAll, measure.HPushCrossAll, measure.HBookingPushInstr, measure.HBookingPushStudent, measure.HFanoutFirst, measure.HFanoutLast}},
}

// histogram is the geometry of a histogram (template "histogram").
type histogram struct {
	W, H, L, R, LabelX, PeakY, ZeroY float64
	Peak                             uint64
	Bars                             []bar
	Ticks                            []tick
}

type bar struct {
	X, Y, Width, Height float64
	Count               uint64
}

type tick struct {
	X, Y, Y2, TY float64
	Text         string
}

// histogramPlot lays out counts in log-spaced bins (10 per decade) from the
// smallest to the largest value seen.
func histogramPlot(h *measure.Histogram) histogram {
	const W, H, L, B, T = 500.0, 180.0, 50.0, 30.0, 10.0
	lo := math.Max(float64(h.Min()), 1000) // 1 µs floor keeps the axis readable
	hi := math.Max(float64(h.Max()), lo*1.01)
	d0, d1 := math.Floor(math.Log10(lo)*10)/10, math.Ceil(math.Log10(hi)*10)/10
	n := int(math.Round((d1-d0)*10)) + 1
	bins := make([]uint64, n)
	for _, bk := range h.Buckets() {
		mid := float64(bk.Low+bk.High) / 2
		i := int(math.Floor((math.Log10(math.Max(mid, 1)) - d0) * 10))
		bins[max(0, min(n-1, i))] += bk.Count
	}
	var peak uint64
	for _, c := range bins {
		peak = max(peak, c)
	}
	pw, ph := W-L-10, H-T-B
	g := histogram{W: W, H: H, L: L, R: L + pw, LabelX: L - 4, PeakY: T + 8, ZeroY: T + ph, Peak: peak}
	bw := pw / float64(n)
	for i, c := range bins {
		if c == 0 {
			continue
		}
		bh := ph * float64(c) / float64(peak)
		g.Bars = append(g.Bars, bar{X: L + float64(i)*bw, Y: T + ph - bh, Width: math.Max(bw-1, 1), Height: bh, Count: c})
	}
	for dec := math.Ceil(d0); dec <= d1; dec++ {
		x := L + pw*(dec-d0)/(d1-d0+0.1)
		g.Ticks = append(g.Ticks, tick{X: x, Y: T + ph, Y2: T + ph + 4, TY: T + ph + 16, Text: measure.FmtDur(time.Duration(math.Pow(10, dec)))})
	}
	return g
}
