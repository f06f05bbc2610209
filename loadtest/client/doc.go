// Package client is the generator's side of the hub's protocols: a REST
// client of the SPEC §4.1 API (API, Session, bookings, availability,
// /metrics), the WebSocket client WSClient (subscribe, per-topic seq
// continuity, resume on reconnect) and an allocation-free frame decoder.
// A WSClient records what it receives into its run's measure counters
// (Env); it never judges the run.
package client
