// Package measure holds what a run counts while it goes: the log-linear
// latency Histogram, the Stats counters, per-topic fan-out records
// (TopicTrack), each subscription's seq continuity (Subscription: gaps and
// duplicates are counted as frames arrive) and the bookings the run made,
// which the scenario reconciles at the end. Also Prometheus text parsing
// for the nodes' /metrics and the compact latency format.
package measure
