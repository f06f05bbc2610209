package store

import "github.com/prometheus/client_golang/prometheus"

// Collectors export this database's pool statistics and the write path's
// admission state, for the node's /metrics (pool handles stay inside store).
// A nil DB's collectors can describe their series but not collect them
// (tests that list every metric name a node registers).
func (db *DB) Collectors() []prometheus.Collector {
	if db == nil {
		return []prometheus.Collector{newPoolCollector(nil), NewAdmissionCollector(nil)}
	}
	return []prometheus.Collector{newPoolCollector(db.pool), NewAdmissionCollector(db)}
}

// Unavailable is the package function Unavailable, offered on DB so that
// callers holding the store through an interface can classify its errors.
func (db *DB) Unavailable(err error) bool { return Unavailable(err) }
