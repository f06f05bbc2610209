package http

import (
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"instainstru/market"
	hubredis "instainstru/redis"
	"instainstru/store"
	"instainstru/store/storetest"
)

// rtBroker is a Redis deployment that cross-node tests run on: one Redis
// (REDIS_URL) or a private 3-master Redis Cluster (REDIS_CLUSTER_ADDRS).
type rtBroker struct {
	name    string
	prefix  string
	url     string
	cluster *storetest.RedisCluster
	single  *storetest.Redis // set when the test owns the single server
}

// forEachBroker runs scenario on one Redis and on a Redis Cluster. owned
// gives the single-Redis run a private server the scenario may kill (the
// shared one otherwise).
func forEachBroker(t *testing.T, owned bool, scenario func(t *testing.T, bk rtBroker)) {
	t.Run("single Redis", func(t *testing.T) {
		bk := rtBroker{name: "single Redis"}
		if owned {
			bk.single = storetest.StartRedis(t)
			bk.url, bk.prefix = bk.single.URL(), "t"+storetest.RandomSuffix()+":"
		} else {
			bk.url, bk.prefix = storetest.SharedRedis(t)
		}
		scenario(t, bk)
	})
	t.Run("Redis Cluster", func(t *testing.T) {
		scenario(t, rtBroker{name: "Redis Cluster", prefix: "t" + storetest.RandomSuffix() + ":",
			cluster: storetest.StartRedisCluster(t, 3)})
	})
}

// node starts a hub node on the deployment.
func (bk rtBroker) node(t testing.TB, db *store.DB, id string, opts ...rtNodeOpt) *rtNode {
	t.Helper()
	if bk.cluster != nil {
		addrs := bk.cluster.Addrs()
		opts = append(opts, func(c *NodeConfig) { c.RedisClusterAddrs = addrs })
	}
	return startNode(t, db, bk.url, bk.prefix, id, opts...)
}

// topicsOnOneServer returns n new availability topics whose channels all
// live on one server, and a crash of that server that returns its restart.
func (bk rtBroker) topicsOnOneServer(t *testing.T, n int) (topics []string, crash func() (restart func())) {
	t.Helper()
	if bk.cluster == nil {
		for range n {
			topics = append(topics, market.AvailabilityTopic(uuid.NewString()))
		}
		return topics, func() func() { bk.single.Stop(); return bk.single.Start }
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: bk.cluster.Addrs()})
	defer cc.Close()
	// The same channel names the nodes' brokers use (node.New's "ev:").
	names := hubredis.NewClusterBroker(cc, bk.prefix+"ev:", nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	const victim = 0
	for len(topics) < n {
		tp := market.AvailabilityTopic(uuid.NewString())
		if bk.cluster.NodeFor(names.Channel(tp)) == victim {
			topics = append(topics, tp)
		}
	}
	return topics, func() func() {
		node := bk.cluster.Nodes[victim]
		node.Stop()
		return func() { node.Start(); bk.cluster.WaitOK() }
	}
}
