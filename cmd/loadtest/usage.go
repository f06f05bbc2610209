package main

const usageHead = `loadtest — load generator for the InstaInstru hub (SPEC §7)

Usage: go run ./cmd/loadtest -scenario NAME -urls http://node-a:8080,http://node-b:8080 [flags]
       go run ./cmd/loadtest markdown -o BENCHMARKS.md result.json…   (render -json results)
       go run ./cmd/loadtest pgfloor -db URL -script booking|change -clients N   (the Postgres floor)

What it does, against one or more nodes of a running, seeded cluster:
  1. finds instructors with services and open time (GET /api/v1/instructors…),
     registers -students new students (unique emails per run) and signs the
     chosen instructors in (email guessed from the seeded name, or
     -instructor-emails; password -password);
  2. opens -watchers WebSocket connections spread over the watch nodes (a share
     -signed-in of them as students), each subscribed to -topics of the
     instructors' availability topics, plus one connection per instructor for
     booking pushes and a "planner" connection that keeps the generator's view
     of open time current;
  3. for -duration, books at -rate attempts/s OPEN-LOOP: every attempt has an
     intended start time on a fixed (or -poisson) schedule, runs on its own
     goroutine, and its latency is measured from the intended time, so a slow
     server shows up as latency instead of a slower schedule (no coordinated
     omission); a share -cancel-ratio of created bookings is cancelled
     -cancel-after later, a share -replay-ratio is POSTed again with the same
     Idempotency-Key (must return the same booking), and -get-rate
     availability GETs/s run alongside;
  4. stops, reads every topic's final seq over REST, waits up to -drain for the
     last pushes, and reconciles: every watcher must have received every seq
     from its subscribe ack+1 to the final seq exactly once, and every created
     or cancelled booking must have reached each connection of its instructor
     and student exactly once.
Latency of a push = receipt time − the event's ts (its commit time): the
generator and the nodes must share a clock (same machine, or well-synced NTP).
With -monitoring-key it also reads each node's /metrics before and after and
reports the server's own view (CPU, pool waits, outbox lag, commit→write
latency); idle-conns needs it for process_resident_memory_bytes.

Exit status: 0 pass; 1 the run failed a check (any event lost or duplicated,
any error, or — with -strict — a missed target); 2 the run could not be
carried out (bad flags, cluster not reachable, more sockets than fit).

Scenarios (-scenario; flags you set override the preset):
`

const usageTail = `
Examples:
  go run ./cmd/loadtest -scenario smoke -urls http://127.0.0.1:8080
  go run ./cmd/loadtest -scenario booking-storm -urls http://127.0.0.1:8081,http://127.0.0.1:8082 -json storm.json -html storm.html
  go run ./cmd/loadtest -scenario fanout -urls http://127.0.0.1:8081,http://127.0.0.1:8082 -watchers 10000
  go run ./cmd/loadtest floor -sockets 9900    # the fan-out syscall floor alone (no server)
  go run ./cmd/loadtest floor -mode uring      # the same floor with the sends batched through io_uring
  go run ./cmd/loadtest -scenario idle-conns -urls http://127.0.0.1:8081 -conns 18000 -procs 2 -monitoring-key "$MONITORING_API_KEY"
`
