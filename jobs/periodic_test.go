package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"instainstru/internal/eventually"
	"instainstru/jobs"
	"instainstru/store/storetest"
)

// TestPeriodicTaskRunsOncePerPeriodAcrossALeaderChange runs a task from one
// node, stops it, and starts another node that schedules the same task on
// election (RunOnStart): inside the same period the unique key turns the
// second insert away, while a task the first node never ran does run.
func TestPeriodicTaskRunsOncePerPeriodAcrossALeaderChange(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	ctx := context.Background()
	// A period so long that the test cannot straddle two of them.
	const every = 10000 * time.Hour
	var shared, fresh atomic.Int32
	task := jobs.Periodic{Task: "shared", Every: every, Run: func(context.Context) error { shared.Add(1); return nil }}
	none := jobs.Handlers{
		Email:    func(context.Context, jobs.Email, jobs.Attempt) error { return nil },
		Reminder: func(context.Context, jobs.Reminder, jobs.Attempt) error { return nil },
	}
	start := func(periodic ...jobs.Periodic) *jobs.Runner {
		r, err := jobs.NewRunner(storetest.Pool(db), none, jobs.RunnerConfig{
			Workers: 1, Queues: []string{}, PollInterval: 100 * time.Millisecond, Periodic: periodic,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	waitFor := func(what string, ok func() bool) { t.Helper(); eventually.True(t, 20*time.Second, what, ok) }

	first := start(task)
	waitFor("the first node's run", func() bool { return shared.Load() == 1 })
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}

	second := start(task, jobs.Periodic{Task: "fresh", Every: every, Run: func(context.Context) error { fresh.Add(1); return nil }})
	t.Cleanup(func() { second.Stop(context.Background()) }) //nolint:errcheck
	waitFor("the second node to schedule on election", func() bool { return fresh.Load() == 1 })
	time.Sleep(300 * time.Millisecond) // let a wrongly inserted duplicate run, if there were one
	if n := shared.Load(); n != 1 {
		t.Fatalf("shared task ran %d times in one period, want 1", n)
	}
	var jobsOfShared int
	if err := storetest.Pool(db).QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'periodic' AND args->>'task' = 'shared'`).Scan(&jobsOfShared); err != nil {
		t.Fatal(err)
	}
	if jobsOfShared != 1 {
		t.Fatalf("%d jobs of the shared task, want 1", jobsOfShared)
	}
}

// TestPeriodicTasksAreValidated refuses tasks River could not schedule
// sensibly, at construction rather than at the first run.
func TestPeriodicTasksAreValidated(t *testing.T) {
	t.Parallel()
	db := storetest.NewDB(t)
	run := func(context.Context) error { return nil }
	none := jobs.Handlers{
		Email:    func(context.Context, jobs.Email, jobs.Attempt) error { return nil },
		Reminder: func(context.Context, jobs.Reminder, jobs.Attempt) error { return nil },
	}
	for _, tc := range []struct {
		name  string
		tasks []jobs.Periodic
	}{
		{"no name", []jobs.Periodic{{Every: time.Minute, Run: run}}},
		{"no run", []jobs.Periodic{{Task: "x", Every: time.Minute}}},
		{"under a second", []jobs.Periodic{{Task: "x", Every: time.Millisecond, Run: run}}},
		{"declared twice", []jobs.Periodic{{Task: "x", Every: time.Minute, Run: run}, {Task: "x", Every: time.Hour, Run: run}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := jobs.NewRunner(storetest.Pool(db), none, jobs.RunnerConfig{Periodic: tc.tasks}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
