// Package config is one run's configuration and the table of named
// scenario presets (smoke, booking-storm, booking-steady, changes, fanout,
// idle-conns) that fill it; cmd/loadtest overrides a preset from flags.
package config
