package store

import "github.com/prometheus/client_golang/prometheus"

// Collectors export this database's pool statistics and the write path's
// admission state, for the node's /metrics (pool handles stay inside store).
func (db *DB) Collectors() []prometheus.Collector {
	return []prometheus.Collector{NewPoolCollector(db.Pool), NewAdmissionCollector(db)}
}

// Unavailable is the package function Unavailable, offered on DB so that
// callers holding the store through an interface can classify its errors.
func (db *DB) Unavailable(err error) bool { return Unavailable(err) }
