package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger routes go-redis's own process-wide logger (reconnect trouble)
// into log, as warnings, so operators get one format.
func SetLogger(log *slog.Logger) { goredis.SetLogger(clientLog{log}) }

// clientLog adapts slog to go-redis's logger.
type clientLog struct{ log *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "msg", fmt.Sprintf(format, v...))
}
