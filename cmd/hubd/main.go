// Command hubd is the InstaInstru hub server: `hubd serve`, `hubd migrate
// [up|down]`, `hubd seed [--reset]`. Configuration comes from environment
// variables (see config.go and docs/configuration.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	nethttp "net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // instructor time zones must load in slim images without zoneinfo

	goredis "github.com/redis/go-redis/v9"

	"instainstru/cmd/hubd/node"
	apphttp "instainstru/http"
	"instainstru/notify"
	"instainstru/redis"
	"instainstru/seed"
	"instainstru/store"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hubd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	cfg, err := loadConfig()
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg.Env)
	// go-redis reports reconnect trouble through its own process-wide
	// logger; route it into ours so operators get one format.
	redis.SetLogger(log)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log)
	case "migrate":
		return migrate(ctx, cfg, args)
	case "seed":
		return seedDemo(ctx, cfg, args)
	case "-h", "--help", "help":
		fmt.Println("usage: hubd [serve | migrate [up|down] | seed [--reset]]")
		return nil
	}
	return fmt.Errorf("unknown command %q (want serve, migrate or seed)", cmd)
}

// withRedis gives the http server the Redis implementations of what the
// nodes share: tickets, rate-limit counters, the /ready ping and the pool
// collector. prefix is REDIS_PREFIX.
func withRedis(d *apphttp.Deps, rdb goredis.UniversalClient, prefix string) {
	d.Tickets = redis.NewTickets(rdb, prefix)
	d.Limits = redis.NewLimiterStorage(rdb)
	d.Redis = redis.NewPinger(rdb)
	d.Collectors = append(d.Collectors, redis.NewPoolCollector(rdb))
}

func newLogger(env string) *slog.Logger {
	if env == "development" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func migrate(ctx context.Context, cfg config, args []string) error {
	dir := "up"
	if len(args) > 0 {
		dir = args[0]
	}
	if dir == "down" && cfg.Env == "production" {
		return errors.New("refusing `migrate down` with APP_ENV=production: it drops every table")
	}
	db, err := store.OpenWith(ctx, cfg.DatabaseURL, cfg.dbOptions())
	if err != nil {
		return err
	}
	defer db.Close()
	switch dir {
	case "up":
		return db.Migrate(ctx)
	case "down":
		return db.MigrateDown(ctx)
	}
	return fmt.Errorf("migrate: unknown direction %q (want up or down)", dir)
}

func seedDemo(ctx context.Context, cfg config, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	reset := fs.Bool("reset", false, "delete demo data first (refused in production)")
	allowProd := fs.Bool("allow-production", false, "seed demo accounts (known password) into a production database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *reset && cfg.Env == "production" {
		return errors.New("refusing `seed --reset` with APP_ENV=production: it deletes user data")
	}
	if cfg.Env == "production" && !*allowProd {
		return errors.New("refusing `seed` with APP_ENV=production: demo accounts share a published password (pass --allow-production to insist)")
	}
	db, err := store.OpenWith(ctx, cfg.DatabaseURL, cfg.dbOptions())
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := seed.Run(ctx, db, seed.Options{Reset: *reset, Env: cfg.Env})
	if err != nil {
		return err
	}
	fmt.Println("seeded:", rep)
	return nil
}

func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	if cfg.generatedSecret {
		log.Warn("JWT_SECRET not set: generated a random one; tokens will not survive a restart")
	}
	edge, hubOpts, err := edgeConfig() // listener.go
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	db, err := store.OpenWith(ctx, cfg.DatabaseURL, cfg.dbOptions())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetAdmission(store.AdmissionConfig{MaxWait: cfg.WriteMaxWait, TurnQueue: cfg.WriteTurnQueue, PoolQueue: cfg.WritePoolQueue})
	rtdb, err := store.OpenWith(ctx, withPoolSize(cfg.DatabaseURL, 6), cfg.dbOptions())
	if err != nil {
		return err
	}
	defer rtdb.Close()
	// The job workers get a pool of their own (SMTP is slow; bookings must
	// not wait behind a mail backlog for connections).
	jobsdb := db
	if cfg.JobWorkers > 0 {
		if jobsdb, err = store.OpenWith(ctx, withPoolSize(cfg.DatabaseURL, min(cfg.JobWorkers, 12)+4), cfg.dbOptions()); err != nil {
			return err
		}
		defer jobsdb.Close()
	}
	// Public availability reads get their own few connections: under a
	// booking storm the main pool is held by bookings queued on row locks,
	// and a GET waiting for one of them is what made its p99 ~150 ms.
	readdb, err := store.OpenWith(ctx, withPoolSize(cfg.DatabaseURL, 4), cfg.dbOptions())
	if err != nil {
		return err
	}
	defer readdb.Close()
	httpCfg := apphttp.Config{
		Env: cfg.Env, NodeID: cfg.NodeID, JWTSecret: []byte(cfg.JWTSecret), PublicURL: cfg.PublicURL,
		MonitoringKey: cfg.MonitoringKey, RedisPrefix: cfg.RedisPrefix,
		RegisterPerIPPerMinute: cfg.RegisterPerMin, LoginPerIPPerMinute: cfg.LoginPerMin,
		LoginFailuresPerAccountPerMinute: cfg.LoginFailPerMin,
		LoginFailuresPerAccountPerHour:   cfg.LoginFailPerHr,
		TokenPerIPPerMinute:              cfg.TokenPerMin,
		ExportPerUserPerMinute:           cfg.ExportPerMin,
		MessageSendPerUserPerMinute:      cfg.MessagePerMin,
		MessageEmailDelay:                cfg.MessageEmail,
		TrustedProxies:                   cfg.TrustedProxies,
		VerifyTokenTTL:                   cfg.VerifyTokenTTL,
		ResetTokenTTL:                    cfg.ResetTokenTTL,
		PasswordResetPerIPPerMinute:      cfg.ResetPerMin,
		PasswordResetPerEmailPerHour:     cfg.ResetPerEmailPerHr,
		RegisterPerEmailPerHour:          cfg.RegisterPerEmailHr,
		AccountTokenPerIPPerMinute:       cfg.AccountTokenPerMin,
		VerifyResendPerUserPerHour:       cfg.ResendPerHr,
		AllowUnverifiedBooking:           cfg.AllowUnverified,
		Edge:                             edge,
	}
	hubOpts.IOUring = cfg.HubIOUring
	var srv *apphttp.Server
	reg := apphttp.NewRegistry()
	n, err := node.New(node.Config{
		NodeID: cfg.NodeID, RedisPrefix: cfg.RedisPrefix,
		DB: db, RealtimeDB: rtdb, ReadDB: readdb, JobsDB: jobsdb, RedisURL: cfg.RedisURL, RedisClusterAddrs: cfg.RedisCluster, EventRetention: cfg.EventRetention, Logger: log,
		Retention: cfg.Retention, LessonCompletion: cfg.LessonEvery,
		Hub:    hubOpts,
		Notify: notify.Config{Workers: cfg.JobWorkers, SMTPURL: cfg.SMTPURL, MailFrom: cfg.MailFrom, PublicURL: cfg.PublicURL},
	}, reg, func(p node.Parts) (node.Front, error) {
		deps := apphttp.Deps{DB: p.DB, ReadDB: p.ReadDB, Search: store.NewSearcher(p.DB), Hub: p.Hub, Presence: p.Presence, Registry: p.Registry, Logger: p.Logger}
		if p.Redis != nil {
			withRedis(&deps, p.Redis, cfg.RedisPrefix)
		}
		srv = apphttp.New(httpCfg, deps)
		return srv, nil
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.HTTPAddr, err)
	}
	guarded, err := guardListener(ln, log, reg)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	ln = guarded
	log.Info("connection cap", "max_connections", guarded.MaxConns())
	mode := "single node, in-process broker"
	if cfg.RedisURL != "" {
		mode = "multi-node via Redis"
	}
	if len(cfg.RedisCluster) > 0 {
		mode = "multi-node via Redis Cluster (sharded pub/sub)"
	}
	log.Info("serving", "addr", ln.Addr().String(), "node", cfg.NodeID, "env", cfg.Env, "mode", mode)
	switch {
	case cfg.JobWorkers == 0:
		log.Info("job workers off (JOB_WORKERS=0): another node sends email and reminders")
	case cfg.SMTPURL == "":
		log.Warn("SMTP_URL not set: emails stay queued until a node with SMTP sends them")
	}
	if cfg.AdminAddr != "" {
		go serveAdmin(cfg.AdminAddr, srv.AdminHandler(), log)
	}
	errc := make(chan error, 1)
	go func() { errc <- n.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "deadline", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return n.Shutdown(sctx)
}

// serveAdmin exposes /metrics and pprof on a private listener, behind the
// monitoring key like /metrics on the public port.
func serveAdmin(addr string, h nethttp.Handler, log *slog.Logger) {
	srv := &nethttp.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Info("admin listener", "addr", addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Error("admin listener", "err", err)
	}
}

// dbOptions is how every pool reaches Postgres (DB_POOLING).
func (c config) dbOptions() store.Options { return store.Options{Pooling: c.DBPooling} }

// withPoolSize sets pgx's pool_max_conns on a URL or key=value DSN.
func withPoolSize(dsn string, n int) string {
	if strings.Contains(dsn, "://") {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return fmt.Sprintf("%s%spool_max_conns=%d", dsn, sep, n)
	}
	return fmt.Sprintf("%s pool_max_conns=%d", dsn, n)
}
