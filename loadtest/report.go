package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"
)

// plotColors are the series colours of the percentile chart.
var plotColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"}

// WriteHTML writes a self-contained report (inline CSS and SVG, no
// scripts, nothing fetched) with the run's figures, a percentile plot of
// every latency and a histogram of each.
func (res *Result) WriteHTML(w io.Writer) error {
	var b strings.Builder
	e := html.EscapeString
	status, cls := "PASS", "pass"
	if !res.Pass {
		status, cls = "FAIL", "fail"
	}
	fmt.Fprintf(&b, `<!doctype html><html><head><meta charset="utf-8"><title>loadtest %s %s</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.pass{color:#1a7f37;font-weight:bold}
.fail{color:#c62828;font-weight:bold}svg{background:#fff;border:1px solid #ddd;margin:4px 0 16px}
.grid{display:flex;flex-wrap:wrap;gap:12px}.grid div{flex:0 0 520px}code{background:#f5f5f5;padding:1px 4px}
</style></head><body>`, e(res.Scenario), e(res.RunID))
	fmt.Fprintf(&b, `<h1>Load test: %s <span class="%s">%s</span></h1>`, e(res.Scenario), cls, status)
	fmt.Fprintf(&b, `<p>Run <code>%s</code> started %s against %s; load %.1f s, drain %.2f s.</p>`,
		e(res.RunID), res.StartedAt.UTC().Format(time.RFC3339), e(strings.Join(res.Nodes, ", ")), res.LoadSecs, res.DrainSecs)
	for _, f := range res.Failures {
		fmt.Fprintf(&b, `<p class="fail">FAILED: %s</p>`, e(f))
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(&b, `<p>warning: %s</p>`, e(wn))
	}

	b.WriteString(`<h2>Targets (SPEC §7)</h2><table><tr><th>target</th><th>value</th><th>limit</th><th></th></tr>`)
	for _, t := range res.Targets {
		v, c := "pass", "pass"
		if !t.Pass {
			v, c = "MISS", "fail"
		}
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%s</td><td>%s</td><td class="%s">%s</td></tr>`, e(t.Name), e(t.Value), e(t.Limit), c, v)
	}
	b.WriteString(`</table>`)

	b.WriteString(`<h2>Counts</h2><table><tr><th>what</th><th>value</th></tr>`)
	row := func(k string, v any) { fmt.Fprintf(&b, `<tr><td>%s</td><td>%v</td></tr>`, e(k), e(fmt.Sprint(v))) }
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
		d := res.Delivery
		row("subscriptions", d.Subscriptions)
		row("availability events expected / received", fmt.Sprintf("%d / %d", d.ExpectedEvents, d.ReceivedEvents))
		row("lost / duplicated", fmt.Sprintf("%d / %d", d.Lost, d.Duplicated))
		row("booking pushes expected / received / lost / duplicated", fmt.Sprintf("%d / %d / %d / %d", d.BookingPushExpected, d.BookingPushReceived, d.BookingPushLost, d.BookingPushDup))
		row("fan-out events complete / total, receivers per event", fmt.Sprintf("%d / %d, %.1f", res.Fanout.CompleteEvents, res.Fanout.Events, res.Fanout.AvgReceivers))
	}
	b.WriteString(`</table>`)
	if res.CPU.WallSecs > 0 {
		fmt.Fprintf(&b, `<h2>CPU and the nodes' own metrics</h2><p>Generator: %.1f s CPU over %.1f s (%.0f%% of one core).</p><ul>`,
			res.CPU.GeneratorSecs, res.CPU.WallSecs, 100*res.CPU.GeneratorSecs/res.CPU.WallSecs)
		for _, sv := range res.Server {
			fmt.Fprintf(&b, `<li>%s</li>`, e(sv.summary(res.CPU.WallSecs)))
		}
		b.WriteString(`</ul>`)
	}
	if len(res.Errors) > 0 {
		b.WriteString(`<h2>Errors by kind</h2><table><tr><th>kind</th><th>count</th></tr>`)
		for _, k := range sortedKeys(res.Errors) {
			row(k, res.Errors[k])
		}
		b.WriteString(`</table>`)
	}

	b.WriteString(`<h2>Latency</h2><table><tr><th>metric</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>`)
	var shown []struct{ key, label string }
	for _, r := range latencyRows {
		h := res.Latency[r.key]
		if h == nil || h.Count() == 0 {
			continue
		}
		shown = append(shown, r)
		fmt.Fprintf(&b, `<tr><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>`, e(r.label), h.Count(),
			fmtDur(h.Quantile(.5)), fmtDur(h.Quantile(.9)), fmtDur(h.Quantile(.99)), fmtDur(h.Quantile(.999)), fmtDur(h.Max()))
	}
	b.WriteString(`</table>`)
	if len(shown) > 0 {
		b.WriteString(`<h2>Percentile plots</h2><p>x: percentile on a log scale of 1/(1−q), as HdrHistogram plots; y: latency, log scale.</p>`)
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
				fmt.Fprintf(&b, `<h3>%s</h3>%s`, e(g.title), percentilePlot(res.Latency, rows))
			}
		}
		b.WriteString(`<h2>Histograms</h2><div class="grid">`)
		for _, r := range shown {
			fmt.Fprintf(&b, `<div><b>%s</b><br>%s</div>`, e(r.label), histogramPlot(res.Latency[r.key]))
		}
		b.WriteString(`</div>`)
	}
	b.WriteString(`<p>Made by <code>go run ./loadtest</code>; the full data is in the <code>-json</code> output.</p></body></html>`)
	_, err := io.WriteString(w, b.String())
	return err
}

// percentilePlot draws each series' latency against percentile, both on
// log scales (HdrHistogram's plot), so milliseconds and seconds share a chart.
func percentilePlot(hs map[string]*Histogram, rows []struct{ key, label string }) string {
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
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-size="11">`, W, H)
	for i := 0; i <= 5; i++ {
		x := L + pw*float64(i)/xmax
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`, x, T, x, T+ph)
		label := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"}[i]
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, T+ph+16, label)
	}
	for d := d0; d <= d1; d++ {
		yy := y(math.Pow(10, d))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`, L, yy, L+pw, yy)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, L-4, yy+4, fmtDur(time.Duration(math.Pow(10, d))))
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`, L, T, pw, ph)
	for i, r := range rows {
		h := hs[r.key]
		col := plotColors[i%len(plotColors)]
		var pts []string
		for k := 0; k <= 200; k++ {
			xv := xmax * float64(k) / 200
			q := 1 - math.Pow(10, -xv)
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", L+pw*xv/xmax, y(float64(h.Quantile(q)))))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`, col, strings.Join(pts, " "))
		ly := T + 10 + float64(i)*16
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/><text x="%.1f" y="%.1f">%s</text>`,
			L+pw+10, ly, L+pw+28, ly, col, L+pw+32, ly+4, html.EscapeString(r.label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// plotGroups split the percentile plots into requests and deliveries.
var plotGroups = []struct {
	title string
	keys  []string
}{
	{"Requests and connection setup", []string{hBookingPost, hBookingService, hCancelPost, hGetAvailability, hConnect, hSubscribeAck}},
	{"Pushes: commit → receipt, and fan-out completion", []string{hPushSameAll, hPushCrossAll, hBookingPushInstr, hBookingPushStudent, hFanoutFirst, hFanoutLast}},
}

// histogramPlot draws counts in log-spaced bins (10 per decade) from the
// smallest to the largest value seen.
func histogramPlot(h *Histogram) string {
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
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-size="10">`, W, H)
	bw := pw / float64(n)
	for i, c := range bins {
		if c == 0 {
			continue
		}
		bh := ph * float64(c) / float64(peak)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1f77b4"><title>%d</title></rect>`,
			L+float64(i)*bw, T+ph-bh, math.Max(bw-1, 1), bh, c)
	}
	for dec := math.Ceil(d0); dec <= d1; dec++ {
		x := L + pw*(dec-d0)/(d1-d0+0.1)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999"/><text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`,
			x, T+ph, x, T+ph+4, x, T+ph+16, fmtDur(time.Duration(math.Pow(10, dec))))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%d</text><text x="%.1f" y="%.1f" text-anchor="end">0</text>`, L-4, T+8, peak, L-4, T+ph)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999"/></svg>`, L, T+ph, L+pw, T+ph)
	return b.String()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
