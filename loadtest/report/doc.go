// Package report is a run's Result: its figures, the SPEC §7 targets it is
// judged by (Judge), and its renderings: the terminal table, -json,
// a self-contained HTML page with SVG plots, and BENCHMARKS.md.
package report
