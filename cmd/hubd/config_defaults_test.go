package main

import (
	"testing"

	apphttp "instainstru/http"
)

// With no variables set, the http settings hubd reads are the http layer's
// own defaults: DefaultConfig is the one table of them.
func TestConfigDefaultsAreTheHTTPDefaults(t *testing.T) {
	for _, k := range []string{"REDIS_PREFIX", "RATE_LIMIT_REGISTER_PER_MIN", "RATE_LIMIT_LOGIN_PER_MIN",
		"RATE_LIMIT_LOGIN_FAILURES_PER_MIN", "RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_PER_HOUR", "RATE_LIMIT_TOKEN_PER_MIN",
		"RATE_LIMIT_EXPORT_PER_MIN", "VERIFY_TOKEN_TTL", "RESET_TOKEN_TTL", "RATE_LIMIT_PASSWORD_RESET_PER_MIN",
		"RATE_LIMIT_PASSWORD_RESET_PER_EMAIL_PER_HOUR", "RATE_LIMIT_ACCOUNT_TOKEN_PER_MIN", "RATE_LIMIT_VERIFY_RESEND_PER_HOUR",
		"APP_ENV", "JWT_SECRET"} {
		t.Setenv(k, "")
	}
	c, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	d := apphttp.DefaultConfig()
	got := []any{c.RedisPrefix, c.RegisterPerMin, c.LoginPerMin, c.LoginFailPerMin, c.LoginFailPerHr, c.TokenPerMin,
		c.ExportPerMin, c.VerifyTokenTTL, c.ResetTokenTTL, c.ResetPerMin, c.ResetPerEmailPerHr, c.AccountTokenPerMin, c.ResendPerHr}
	want := []any{d.RedisPrefix, d.RegisterPerIPPerMinute, d.LoginPerIPPerMinute, d.LoginFailuresPerAccountPerMinute,
		d.LoginFailuresPerAccountPerHour, d.TokenPerIPPerMinute, d.ExportPerUserPerMinute, d.VerifyTokenTTL, d.ResetTokenTTL,
		d.PasswordResetPerIPPerMinute, d.PasswordResetPerEmailPerHour, d.AccountTokenPerIPPerMinute, d.VerifyResendPerUserPerHour}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("setting %d: hubd default %v, http default %v", i, got[i], want[i])
		}
	}
}
