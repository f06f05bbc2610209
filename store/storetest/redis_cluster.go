package storetest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisCluster is a local Redis Cluster of redis-server child processes,
// one master per node and no replicas, killed in cleanup. A node can be
// killed and restarted on its port (it keeps its identity and slots in its
// nodes file) to test recovery.
type RedisCluster struct {
	tb    testing.TB
	Nodes []*Redis
}

// StartRedisCluster starts masters (≥ 3) cluster-enabled servers on free
// ports, joins them with `redis-cli --cluster create` and waits until every
// node reports the cluster ok.
func StartRedisCluster(tb testing.TB, masters int) *RedisCluster {
	skipInShortMode(tb)
	tb.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		tb.Fatalf("storetest: redis-cli not installed: %v", err)
	}
	dir := tb.TempDir()
	c := &RedisCluster{tb: tb}
	create := []string{"--cluster", "create"}
	for range masters {
		port, err := FreePort()
		if err != nil {
			tb.Fatal(err)
		}
		bus, err := FreePort()
		if err != nil {
			tb.Fatal(err)
		}
		r := &Redis{tb: tb, Port: port}
		// The bus port is chosen too: the default (port+10000) can fall
		// past 65535 for a high ephemeral port. A short node timeout lets a
		// restarted master rejoin quickly; without full coverage the other
		// masters keep serving while one is down.
		r.args = []string{"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", r.Port)),
			"--cluster-node-timeout", "1000", "--cluster-require-full-coverage", "no",
			"--dir", dir}
		r.Start()
		tb.Cleanup(r.Stop)
		c.Nodes = append(c.Nodes, r)
		create = append(create, fmt.Sprintf("127.0.0.1:%d", r.Port))
	}
	create = append(create, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", create...).CombinedOutput(); err != nil {
		tb.Fatalf("storetest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitOK()
	return c
}

// Addrs are the nodes' host:port addresses (the seeds for a ClusterClient).
func (c *RedisCluster) Addrs() []string {
	var out []string
	for _, r := range c.Nodes {
		out = append(out, fmt.Sprintf("127.0.0.1:%d", r.Port))
	}
	return out
}

// WaitOK waits until every node answers and reports cluster_state:ok with
// all slots assigned and ok (after a create or a restart).
func (c *RedisCluster) WaitOK() {
	c.tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range c.Addrs() {
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		for {
			info, err := rdb.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_slots_ok:16384") {
				break
			}
			if time.Now().After(deadline) {
				rdb.Close()
				c.tb.Fatalf("storetest: cluster node %s not ok: %v %s", addr, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		rdb.Close()
	}
}

// NodeFor returns the index of the master that owns key's slot (a channel
// name for sharded pub/sub).
func (c *RedisCluster) NodeFor(key string) int {
	c.tb.Helper()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	defer rdb.Close()
	m, err := rdb.MasterForKey(context.Background(), key)
	if err != nil {
		c.tb.Fatalf("storetest: master for %q: %v", key, err)
	}
	for i, addr := range c.Addrs() {
		if m.Options().Addr == addr {
			return i
		}
	}
	c.tb.Fatalf("storetest: master %s of %q is not one of ours", m.Options().Addr, key)
	return -1
}
