package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"instainstru/realtime"
)

// Presence is the multi-node realtime.PresenceStore. Each node process (an
// instance: node id plus a random suffix, so a restarted node never inherits
// its predecessor's entries) keeps its own part under keys that expire:
//
//	<prefix>presence:nodes                 ZSET instance → expiry (unix ms)
//	<prefix>presence:{<topic>}:<instance>  SET of the topic's viewers on that instance
//	<prefix>presence:users:<instance>      SET of users connected to that instance
//
// Every sync refreshes the instance's score and the expiry of its keys; a
// count is the size of the union of the topic's sets of the instances whose
// score is still in the future (all of a topic's keys share a hash tag, so
// the union runs in one slot of a cluster). An instance that stops syncing
// stops counting once its score passes — the TTL after its last sync — and
// its keys expire with it.
type Presence struct {
	rdb      goredis.UniversalClient
	prefix   string
	instance string

	mu   sync.Mutex
	live []string // instances alive at the last sync (Online reads them)
}

// Presence is a realtime.PresenceStore.
var _ realtime.PresenceStore = (*Presence)(nil)

// NewPresence returns node nodeID's presence store under prefix (REDIS_PREFIX).
func NewPresence(rdb goredis.UniversalClient, prefix, nodeID string) *Presence {
	b := make([]byte, 4)
	rand.Read(b) //nolint:errcheck // never fails
	return &Presence{rdb: rdb, prefix: prefix + "presence:", instance: nodeID + "." + hex.EncodeToString(b)}
}

// Instance is this process's name in the store.
func (p *Presence) Instance() string { return p.instance }

func (p *Presence) nodesKey() string            { return p.prefix + "nodes" }
func (p *Presence) usersKey(inst string) string { return p.prefix + "users:" + inst }
func (p *Presence) topicKey(topic, inst string) string {
	return p.prefix + "{" + topic + "}:" + inst
}

// replaceSet sets KEYS[1] to ARGV[2..] with expiry ARGV[1] ms, in chunks
// (Lua's unpack has a stack limit).
var replaceSet = goredis.NewScript(`
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 1000 do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
if #ARGV > 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1`)

// unionCount is the size of the union of KEYS[1..n-1]; KEYS[n] is scratch.
var unionCount = goredis.NewScript(`
if #KEYS < 2 then return 0 end
if #KEYS == 2 then return redis.call('SCARD', KEYS[1]) end
local n = redis.call('SUNIONSTORE', KEYS[#KEYS], unpack(KEYS, 1, #KEYS - 1))
redis.call('DEL', KEYS[#KEYS])
return n`)

// Sync writes this instance's part, refreshes its expiry, and counts the
// topics asked for over the live instances: two round trips.
func (p *Presence) Sync(ctx context.Context, req realtime.PresenceSync, ttl time.Duration) (realtime.PresenceCounts, error) {
	now := time.Now()
	var liveCmd *goredis.StringSliceCmd
	refresh := map[string]*goredis.BoolCmd{}
	var usersCmd *goredis.BoolCmd
	_, err := p.rdb.Pipelined(ctx, func(pl goredis.Pipeliner) error {
		pl.ZAdd(ctx, p.nodesKey(), goredis.Z{Score: float64(now.Add(ttl).UnixMilli()), Member: p.instance})
		pl.ZRemRangeByScore(ctx, p.nodesKey(), "-inf", strconv.FormatInt(now.Add(-time.Hour).UnixMilli(), 10))
		liveCmd = pl.ZRangeByScore(ctx, p.nodesKey(), &goredis.ZRangeBy{Min: "(" + strconv.FormatInt(now.UnixMilli(), 10), Max: "+inf"})
		for name, t := range req.Topics {
			key := p.topicKey(name, p.instance)
			switch {
			case t.Changed:
				replaceSet.Eval(ctx, pl, []string{key}, setArgs(ttl, t.Viewers)...)
			case t.Local > 0:
				refresh[name] = pl.PExpire(ctx, key, ttl)
			}
		}
		p.writeUsers(ctx, pl, req, ttl)
		usersCmd = pl.PExpire(ctx, p.usersKey(p.instance), ttl)
		return nil
	})
	if err != nil {
		return realtime.PresenceCounts{}, fmt.Errorf("presence sync: %w", err)
	}
	res := realtime.PresenceCounts{Watching: map[string]int{}}
	for name, c := range refresh {
		if !c.Val() {
			res.Lost = append(res.Lost, name)
		}
	}
	res.UsersLost = !usersCmd.Val() && req.Users > 0
	live := liveCmd.Val()
	p.mu.Lock()
	p.live = live
	p.mu.Unlock()
	return res, p.count(ctx, req, live, res.Watching)
}

// writeUsers queues this instance's online-set changes.
func (p *Presence) writeUsers(ctx context.Context, pl goredis.Pipeliner, req realtime.PresenceSync, ttl time.Duration) {
	key := p.usersKey(p.instance)
	if req.UsersAll {
		replaceSet.Eval(ctx, pl, []string{key}, setArgs(ttl, req.UsersAdd)...)
		return
	}
	if len(req.UsersAdd) > 0 {
		pl.SAdd(ctx, key, anySlice(req.UsersAdd)...)
	}
	if len(req.UsersRemove) > 0 {
		pl.SRem(ctx, key, anySlice(req.UsersRemove)...)
	}
}

// count fills out with the union counts of the topics asked for.
func (p *Presence) count(ctx context.Context, req realtime.PresenceSync, live []string, out map[string]int) error {
	cmds := map[string]*goredis.Cmd{}
	_, err := p.rdb.Pipelined(ctx, func(pl goredis.Pipeliner) error {
		for name, t := range req.Topics {
			if !t.Count {
				continue
			}
			keys := make([]string, 0, len(live)+1)
			for _, inst := range live {
				keys = append(keys, p.topicKey(name, inst))
			}
			keys = append(keys, p.topicKey(name, "tmp:"+p.instance))
			cmds[name] = unionCount.Eval(ctx, pl, keys)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("presence count: %w", err)
	}
	for name, c := range cmds {
		n, _ := c.Int()
		out[name] = n
	}
	return nil
}

// Online reports which of userIDs are in the online set of an instance
// that was live at the last sync (one SMISMEMBER per instance).
func (p *Presence) Online(ctx context.Context, userIDs []string) (map[string]bool, error) {
	out := make(map[string]bool, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	p.mu.Lock()
	live := p.live
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	cmds := make([]*goredis.BoolSliceCmd, 0, len(live))
	_, err := p.rdb.Pipelined(ctx, func(pl goredis.Pipeliner) error {
		for _, inst := range live {
			cmds = append(cmds, pl.SMIsMember(ctx, p.usersKey(inst), anySlice(userIDs)...))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("presence online: %w", err)
	}
	for _, c := range cmds {
		for i, on := range c.Val() {
			out[userIDs[i]] = out[userIDs[i]] || on
		}
	}
	return out, nil
}

// Leave deletes this instance's part (a clean shutdown), so it stops
// counting at once rather than after the TTL.
func (p *Presence) Leave(ctx context.Context, topics []string) error {
	_, err := p.rdb.Pipelined(ctx, func(pl goredis.Pipeliner) error {
		pl.ZRem(ctx, p.nodesKey(), p.instance)
		pl.Del(ctx, p.usersKey(p.instance))
		for _, name := range topics {
			pl.Del(ctx, p.topicKey(name, p.instance))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("presence leave: %w", err)
	}
	return nil
}

func setArgs(ttl time.Duration, members []string) []any {
	args := make([]any, 0, len(members)+1)
	args = append(args, ttl.Milliseconds())
	for _, m := range members {
		args = append(args, m)
	}
	return args
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
