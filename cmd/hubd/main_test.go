package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestConfigIsValidatedWithClearErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"development defaults generate a secret", map[string]string{}, ""},
		{"unknown environment", map[string]string{"APP_ENV": "staging"}, "APP_ENV must be"},
		{"production needs a JWT secret", map[string]string{"APP_ENV": "production", "MONITORING_API_KEY": "k"}, "JWT_SECRET is required"},
		{"short secret", map[string]string{"JWT_SECRET": "short"}, "at least 32 characters"},
		{"production needs a monitoring key", map[string]string{"APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32)}, "MONITORING_API_KEY is required"},
		{"bad duration", map[string]string{"EVENT_RETENTION": "forever"}, "EVENT_RETENTION"},
		{"bad rate", map[string]string{"RATE_LIMIT_LOGIN_PER_MIN": "-3"}, "RATE_LIMIT_LOGIN_PER_MIN"},
		{"unverified booking is true or false", map[string]string{"ALLOW_UNVERIFIED_BOOKING": "maybe"}, "ALLOW_UNVERIFIED_BOOKING"},
		{"io_uring is true or false", map[string]string{"HUB_IO_URING": "yes"}, "HUB_IO_URING"},
		{"bad reset link lifetime", map[string]string{"RESET_TOKEN_TTL": "soon"}, "RESET_TOKEN_TTL"},
		{"one Redis or a cluster, not both", map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_CLUSTER_ADDRS": "127.0.0.1:7000"}, "not both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"APP_ENV", "JWT_SECRET", "MONITORING_API_KEY", "EVENT_RETENTION", "RATE_LIMIT_LOGIN_PER_MIN", "REDIS_URL", "REDIS_CLUSTER_ADDRS", "ALLOW_UNVERIFIED_BOOKING", "RESET_TOKEN_TTL", "HUB_IO_URING"} {
				t.Setenv(k, tc.env[k])
			}
			cfg, err := loadConfig()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !cfg.generatedSecret || len(cfg.JWTSecret) < 32 || cfg.HTTPAddr != ":8080" ||
					cfg.AllowUnverified || cfg.HubIOUring || cfg.VerifyTokenTTL != 48*time.Hour || cfg.ResetTokenTTL != 30*time.Minute {
					t.Fatalf("defaults: %+v", cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestDestructiveCommandsRefuseProduction(t *testing.T) {
	cfg := config{Env: "production", DatabaseURL: "postgres://nobody@127.0.0.1:1/none"}
	tests := []struct {
		name string
		run  func() error
	}{
		{"migrate down", func() error { return migrate(context.Background(), cfg, []string{"down"}) }},
		{"seed --reset", func() error { return seedDemo(context.Background(), cfg, []string{"--reset"}) }},
		{"seed of demo accounts", func() error { return seedDemo(context.Background(), cfg, nil) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The database URL points nowhere: a refusal must come before any connection.
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), "production") {
				t.Fatalf("err = %v, want a refusal that names production", err)
			}
		})
	}
}

func TestProductionRefusesKnownAndLowEntropySecrets(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		wantErr string // "" = accepted
	}{
		{"the secret once published in docker-compose.yml", "local-stack-jwt-secret-change-me-0123456789abcdef", "published in this repository"},
		{"32 times the same character", strings.Repeat("a", 32), "too little entropy"},
		{"a short alphabet repeated", strings.Repeat("ab", 24), "too little entropy"},
		{"a word repeated", strings.Repeat("password", 4), "too little entropy"},
		{"a change-me placeholder", "please-change-me-before-going-live-0123456789", "change-me placeholder"},
		{"openssl rand -hex 32", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ""},
		{"32 random hex characters", "3c59dc048e8850243be8079a5c74d079", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("APP_ENV", "production")
			t.Setenv("MONITORING_API_KEY", "k")
			t.Setenv("JWT_SECRET", tc.secret)
			_, err := loadConfig()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("a strong secret was refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "production") {
				t.Fatalf("err = %v, want a production refusal mentioning %q", err, tc.wantErr)
			}
		})
	}
	// Development keeps accepting any 32-byte secret (tests and make run).
	t.Setenv("APP_ENV", "development")
	t.Setenv("JWT_SECRET", strings.Repeat("a", 32))
	if _, err := loadConfig(); err != nil {
		t.Fatalf("development: %v", err)
	}
}

func TestHubIOUringIsOptIn(t *testing.T) {
	for v, want := range map[string]bool{"": false, "false": false, "0": false, "true": true, "1": true} {
		t.Setenv("HUB_IO_URING", v)
		cfg, err := loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.HubIOUring != want {
			t.Errorf("HUB_IO_URING=%q: io_uring %v, want %v", v, cfg.HubIOUring, want)
		}
	}
}
