package main

import (
	"context"
	"time"
)

func (r *runner) snapServers(ctx context.Context) []serverSnap {
	out := make([]serverSnap, len(r.cfg.URLs))
	for i, u := range r.cfg.URLs {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		b, err := r.api.scrape(sctx, u, r.cfg.MonitoringKey)
		cancel()
		if err == nil {
			out[i].body = b
		}
	}
	return out
}
