package deploy

import (
	"strings"
	"testing"
)

// The nodes reach Postgres through PgBouncer in transaction pooling and say
// so (DB_POOLING=transaction, or they would break on its connections);
// schema changes go to Postgres directly.
func TestComposeNodesReachPostgresThroughPgBouncerInTransactionPooling(t *testing.T) {
	var c composeFile
	readYAML(t, "../docker-compose.yml", &c)
	pb, ok := c.Services["pgbouncer"]
	if !ok {
		t.Fatal("service pgbouncer is missing")
	}
	if pb.Environment["POOL_MODE"] != "transaction" || pb.Environment["DB_HOST"] != "postgres" {
		t.Errorf("pgbouncer must pool transactions in front of postgres: %v", pb.Environment)
	}
	if dependsOn(pb.DependsOn)["postgres"] != "service_healthy" {
		t.Errorf("pgbouncer must wait for a healthy postgres")
	}
	for _, n := range []string{"hub1", "hub2", "seed"} {
		env := c.Services[n].Environment
		if !strings.Contains(env["DATABASE_URL"], "@pgbouncer:") || env["DB_POOLING"] != "transaction" {
			t.Errorf("%s: DATABASE_URL %q DB_POOLING %q, want through pgbouncer with DB_POOLING=transaction", n, env["DATABASE_URL"], env["DB_POOLING"])
		}
		if dependsOn(c.Services[n].DependsOn)["pgbouncer"] != "service_healthy" {
			t.Errorf("%s must wait for a healthy pgbouncer", n)
		}
	}
	if env := c.Services["migrate"].Environment; !strings.Contains(env["DATABASE_URL"], "@postgres:") || env["DB_POOLING"] == "transaction" {
		t.Errorf("migrate must reach postgres directly: %v", env)
	}
}
