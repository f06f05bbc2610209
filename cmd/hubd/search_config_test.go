package main

import (
	"strings"
	"testing"
	"time"
)

func TestSearchHistoryRetentionAcceptsDaysAndDurations(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr string
	}{
		{"", 180 * 24 * time.Hour, ""},
		{"30d", 30 * 24 * time.Hour, ""},
		{"720h", 720 * time.Hour, ""},
		{"0d", 0, "SEARCH_HISTORY_RETENTION"},
		{"forever", 0, "SEARCH_HISTORY_RETENTION"},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			t.Setenv("SEARCH_HISTORY_RETENTION", tc.value)
			cfg, err := loadConfig()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to name %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || cfg.SearchRetention != tc.want {
				t.Fatalf("retention = %v (%v), want %v", cfg.SearchRetention, err, tc.want)
			}
		})
	}
}
