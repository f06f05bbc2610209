package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	apphttp "instainstru/http"
	"instainstru/store"
)

// config is the process configuration, read from the environment once and
// validated before anything starts.
type config struct {
	Env             string // development | test | production
	DatabaseURL     string
	DBPooling       store.Pooling // DB_POOLING: session (direct) | transaction (PgBouncer pool_mode=transaction)
	RedisURL        string        // "" = single node, in-process broker
	RedisPrefix     string
	HTTPAddr        string
	AdminAddr       string // optional: /metrics + pprof on a separate listener
	JWTSecret       string
	MonitoringKey   string
	NodeID          string
	EventRetention  time.Duration
	LessonEvery     time.Duration // LESSON_COMPLETION_INTERVAL
	Retention       store.RetentionConfig
	ShutdownTimeout time.Duration
	RegisterPerMin  int
	LoginPerMin     int
	LoginFailPerMin int // per account and client IP
	LoginFailPerHr  int // per account from every IP
	TokenPerMin     int
	ExportPerMin    int
	MessagePerMin   int           // RATE_LIMIT_MESSAGES_PER_MIN: sends per user
	MessageEmail    time.Duration // MESSAGE_EMAIL_DELAY: an unread message is emailed after this
	// Email verification and password reset (see docs/features/accounts.md); the defaults of
	// these and of the rate limits above are http.DefaultConfig's.
	VerifyTokenTTL     time.Duration // VERIFY_TOKEN_TTL
	ResetTokenTTL      time.Duration // RESET_TOKEN_TTL
	ResetPerMin        int           // RATE_LIMIT_PASSWORD_RESET_PER_MIN, per IP
	ResetPerEmailPerHr int           // RATE_LIMIT_PASSWORD_RESET_PER_EMAIL_PER_HOUR
	RegisterPerEmailHr int           // RATE_LIMIT_REGISTER_PER_EMAIL_PER_HOUR
	AccountTokenPerMin int           // RATE_LIMIT_ACCOUNT_TOKEN_PER_MIN: verify + reset confirm per IP
	ResendPerHr        int           // RATE_LIMIT_VERIFY_RESEND_PER_HOUR, per user
	AllowUnverified    bool          // ALLOW_UNVERIFIED_BOOKING=true lets unverified accounts book (load tests)
	HubIOUring         bool          // HUB_IO_URING=true: the hub's writer loops send through io_uring (Linux)
	TrustedProxies     []string
	// SearchRetention is how long search history is kept
	// (SEARCH_HISTORY_RETENTION: 180d, 720h…).
	SearchRetention time.Duration
	JobWorkers      int    // JOB_WORKERS per queue (default 40: an email spends most of its time waiting on SMTP); 0 = no background jobs on this node
	SMTPURL         string // "" = emails stay queued
	MailFrom        string
	PublicURL       string // the web page, for links in emails
	generatedSecret bool

	// REDIS_CLUSTER_ADDRS: seed nodes of a Redis Cluster (sharded pub/sub),
	// instead of REDIS_URL's one Redis.
	RedisCluster []string
	// Admission control on the write path (store.AdmissionConfig).
	WriteMaxWait   time.Duration // WRITE_MAX_WAIT [750ms]
	WriteTurnQueue int           // WRITE_QUEUE_PER_INSTRUCTOR [256]
	WritePoolQueue int           // WRITE_QUEUE_POOL [8 × pool size]
}

func loadConfig() (config, error) {
	def := apphttp.DefaultConfig() // the http layer's defaults are the variables' defaults
	c := config{
		Env:           env("APP_ENV", "development"),
		DatabaseURL:   env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/instainstru?sslmode=disable"),
		RedisURL:      os.Getenv("REDIS_URL"),
		RedisPrefix:   env("REDIS_PREFIX", def.RedisPrefix),
		HTTPAddr:      env("HTTP_ADDR", ":8080"),
		AdminAddr:     os.Getenv("ADMIN_ADDR"),
		JWTSecret:     os.Getenv("JWT_SECRET"),
		MonitoringKey: os.Getenv("MONITORING_API_KEY"),
		NodeID:        os.Getenv("NODE_ID"),
	}
	var errs []error
	for _, a := range strings.Split(os.Getenv("REDIS_CLUSTER_ADDRS"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.RedisCluster = append(c.RedisCluster, a)
		}
	}
	if len(c.RedisCluster) > 0 && c.RedisURL != "" {
		errs = append(errs, errors.New("set REDIS_URL (one Redis) or REDIS_CLUSTER_ADDRS (a cluster), not both"))
	}
	for _, p := range strings.Split(os.Getenv("TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	var err error
	if c.DBPooling, err = store.ParsePooling(os.Getenv("DB_POOLING")); err != nil {
		errs = append(errs, err)
	}
	c.EventRetention = durationEnv("EVENT_RETENTION", 24*time.Hour, &errs)
	c.ShutdownTimeout = durationEnv("SHUTDOWN_TIMEOUT", 15*time.Second, &errs)
	c.LessonEvery = durationEnv("LESSON_COMPLETION_INTERVAL", time.Minute, &errs)
	c.SearchRetention = daysEnv("SEARCH_HISTORY_RETENTION", 180*24*time.Hour, &errs)
	c.Retention = retentionConfig(&errs)
	// Search history is a retention kind too, under its own variable.
	c.Retention.SearchHistory = c.SearchRetention
	c.WriteMaxWait = durationEnv("WRITE_MAX_WAIT", 750*time.Millisecond, &errs)
	c.WriteTurnQueue = intEnv("WRITE_QUEUE_PER_INSTRUCTOR", 256, &errs)
	c.WritePoolQueue = intEnv("WRITE_QUEUE_POOL", 0, &errs)
	c.RegisterPerMin = intEnv("RATE_LIMIT_REGISTER_PER_MIN", def.RegisterPerIPPerMinute, &errs)
	c.LoginPerMin = intEnv("RATE_LIMIT_LOGIN_PER_MIN", def.LoginPerIPPerMinute, &errs)
	c.LoginFailPerMin = intEnv("RATE_LIMIT_LOGIN_FAILURES_PER_MIN", def.LoginFailuresPerAccountPerMinute, &errs)
	c.LoginFailPerHr = intEnv("RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_PER_HOUR", def.LoginFailuresPerAccountPerHour, &errs)
	c.TokenPerMin = intEnv("RATE_LIMIT_TOKEN_PER_MIN", def.TokenPerIPPerMinute, &errs)
	c.ExportPerMin = intEnv("RATE_LIMIT_EXPORT_PER_MIN", def.ExportPerUserPerMinute, &errs)
	c.MessagePerMin = intEnv("RATE_LIMIT_MESSAGES_PER_MIN", def.MessageSendPerUserPerMinute, &errs)
	c.MessageEmail = durationEnv("MESSAGE_EMAIL_DELAY", def.MessageEmailDelay, &errs)
	c.VerifyTokenTTL = durationEnv("VERIFY_TOKEN_TTL", def.VerifyTokenTTL, &errs)
	c.ResetTokenTTL = durationEnv("RESET_TOKEN_TTL", def.ResetTokenTTL, &errs)
	c.ResetPerMin = intEnv("RATE_LIMIT_PASSWORD_RESET_PER_MIN", def.PasswordResetPerIPPerMinute, &errs)
	c.ResetPerEmailPerHr = intEnv("RATE_LIMIT_PASSWORD_RESET_PER_EMAIL_PER_HOUR", def.PasswordResetPerEmailPerHour, &errs)
	c.RegisterPerEmailHr = intEnv("RATE_LIMIT_REGISTER_PER_EMAIL_PER_HOUR", def.RegisterPerEmailPerHour, &errs)
	c.AccountTokenPerMin = intEnv("RATE_LIMIT_ACCOUNT_TOKEN_PER_MIN", def.AccountTokenPerIPPerMinute, &errs)
	c.ResendPerHr = intEnv("RATE_LIMIT_VERIFY_RESEND_PER_HOUR", def.VerifyResendPerUserPerHour, &errs)
	c.AllowUnverified = boolEnv("ALLOW_UNVERIFIED_BOOKING", &errs)
	c.HubIOUring = boolEnv("HUB_IO_URING", &errs)
	c.JobWorkers = 40
	if v := os.Getenv("JOB_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("JOB_WORKERS=%q is not a count (0 turns workers off)", v))
		} else {
			c.JobWorkers = n
		}
	}
	c.SMTPURL, c.MailFrom = os.Getenv("SMTP_URL"), os.Getenv("MAIL_FROM")
	port := "8080"
	if _, p, err := net.SplitHostPort(c.HTTPAddr); err == nil && p != "" {
		port = p
	}
	c.PublicURL = env("PUBLIC_URL", "http://localhost:"+port)
	switch c.Env {
	case "development", "test", "production":
	default:
		errs = append(errs, fmt.Errorf("APP_ENV must be development, test or production, not %q", c.Env))
	}
	if c.NodeID == "" {
		h, _ := os.Hostname()
		c.NodeID = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	switch {
	case c.JWTSecret == "" && c.Env == "production":
		errs = append(errs, errors.New("JWT_SECRET is required when APP_ENV=production"))
	case c.JWTSecret == "":
		b := make([]byte, 32)
		rand.Read(b) //nolint:errcheck
		c.JWTSecret, c.generatedSecret = hex.EncodeToString(b), true
	case len(c.JWTSecret) < 32:
		errs = append(errs, errors.New("JWT_SECRET must be at least 32 characters"))
	case c.Env == "production" && weakSecret(c.JWTSecret) != "":
		errs = append(errs, fmt.Errorf("JWT_SECRET %s: refusing it with APP_ENV=production", weakSecret(c.JWTSecret)))
	}
	if c.Env == "production" && c.MonitoringKey == "" {
		errs = append(errs, errors.New("MONITORING_API_KEY is required when APP_ENV=production"))
	}
	return c, errors.Join(errs...)
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func durationEnv(k string, def time.Duration, errs *[]error) time.Duration {
	v := os.Getenv(k)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		*errs = append(*errs, fmt.Errorf("%s=%q is not a positive duration like 30s", k, v))
		return def
	}
	return d
}

// boolEnv is an off-by-default switch: true/1 or false/0/unset.
func boolEnv(k string, errs *[]error) bool {
	switch v := os.Getenv(k); v {
	case "", "false", "0":
		return false
	case "true", "1":
		return true
	default:
		*errs = append(*errs, fmt.Errorf("%s=%q must be true or false", k, v))
		return false
	}
}

func intEnv(k string, def int, errs *[]error) int {
	v := os.Getenv(k)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		*errs = append(*errs, fmt.Errorf("%s=%q is not a positive integer", k, v))
		return def
	}
	return n
}

// daysEnv is durationEnv that also accepts whole days ("180d"), the natural
// unit of a retention period.
func daysEnv(k string, def time.Duration, errs *[]error) time.Duration {
	v := os.Getenv(k)
	if n, ok := strings.CutSuffix(v, "d"); ok && v != "" {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			*errs = append(*errs, fmt.Errorf("%s=%q is not a positive number of days like 180d", k, v))
			return def
		}
		return time.Duration(days) * 24 * time.Hour
	}
	return durationEnv(k, def, errs)
}
