package scenario

import (
	"context"
	"instainstru/loadtest/report"
	"time"
)

func (r *runner) snapServers(ctx context.Context) []report.ServerSnap {
	out := make([]report.ServerSnap, len(r.cfg.URLs))
	for i, u := range r.cfg.URLs {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		b, err := r.api.Scrape(sctx, u, r.cfg.MonitoringKey)
		cancel()
		if err == nil {
			out[i].Body = b
		}
	}
	return out
}
