// Package scenario runs a scenario against running nodes (Run): setup
// (instructors, students, connections), the open-loop load, drain,
// reconciliation of every event and booking push, and cleanup; idle-conns
// holds connections across re-executed child processes (ChildMain).
package scenario
