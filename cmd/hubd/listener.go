package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	apphttp "instainstru/http"
	"instainstru/hub"
	"instainstru/internal/netguard"
)

// guardListener wraps the public listener in netguard (see its package
// doc): a node out of file descriptors answers 503 and retries Accept
// instead of exiting. MAX_CONNECTIONS caps the connections open at once
// (default: RLIMIT_NOFILE minus FD_RESERVE); FD_RESERVE is the descriptors
// kept for pools, SMTP and files (default max(128, limit/8)). The cap and
// the sheds are exported as metrics on reg.
func guardListener(ln net.Listener, log *slog.Logger, reg prometheus.Registerer) (*netguard.Listener, error) {
	maxConns, err1 := nonNegativeEnv("MAX_CONNECTIONS")
	reserve, err2 := nonNegativeEnv("FD_RESERVE")
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return netguard.NewMetrics(reg).Wrap(ln, netguard.Config{MaxConns: maxConns, Reserve: reserve, Logger: log}), nil
}

// nonNegativeEnv reads an optional count; unset or empty is 0 (default).
func nonNegativeEnv(name string) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s must be a non-negative integer, got %q", name, v)
	}
	return n, nil
}

// edgeConfig reads the per-client caps (see apphttp.EdgeLimits; unset = the
// default) and HUB_MAX_SUBSCRIPTIONS, the topics one socket may watch [100].
func edgeConfig() (apphttp.EdgeLimits, hub.Options, error) {
	var errs [4]error
	var lim apphttp.EdgeLimits
	var opts hub.Options
	lim.WSPerUser, errs[0] = nonNegativeEnv("WS_MAX_PER_USER")
	lim.WSPerAddress, errs[1] = nonNegativeEnv("WS_MAX_PER_ADDRESS")
	lim.WSTopicsPerAddress, errs[2] = nonNegativeEnv("WS_MAX_TOPICS_PER_ADDRESS")
	opts.MaxSubscriptions, errs[3] = nonNegativeEnv("HUB_MAX_SUBSCRIPTIONS")
	return lim, opts, errors.Join(errs[:]...)
}
