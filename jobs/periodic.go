package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
)

// QueuePeriodic holds the upkeep jobs (lesson completion, retention): its
// own queue, so a mail backlog never delays them, nor they a reminder.
const QueuePeriodic = "periodic"

// periodicMaxAttempts: a failed upkeep run is retried a couple of times;
// the next period runs it again anyway.
const periodicMaxAttempts = 3

// Periodic is upkeep that runs once per Every across the whole cluster,
// not once per node: River's leader inserts its job each period, and the
// job is unique per task and period (UTC multiples of Every), so a leader
// change or a restart inside a period does not run it twice. Any node with
// workers may run it; a node with none (JOB_WORKERS=0) runs no upkeep.
// Every node that runs workers must declare the same tasks: whichever is
// leader schedules them.
type Periodic struct {
	Task  string        // unique name, e.g. "lesson_completion", "retention.audit"
	Every time.Duration // period; at least a second
	Run   func(ctx context.Context) error
}

// periodicArgs is one run of a Periodic task.
type periodicArgs struct {
	Task string `json:"task"`
}

// Kind names the job in river_job.kind; the task is in its args.
func (periodicArgs) Kind() string { return "periodic" }

// periodicWorker runs the task a job names.
type periodicWorker struct {
	river.WorkerDefaults[periodicArgs]
	tasks   map[string]Periodic
	timeout time.Duration
}

func (w *periodicWorker) Work(ctx context.Context, j *river.Job[periodicArgs]) error {
	p, ok := w.tasks[j.Args.Task]
	if !ok {
		// Declared by the leader's build, not this one (a rolling upgrade):
		// fail so that a node that knows it takes the retry.
		return fmt.Errorf("periodic task %q is not declared on this node", j.Args.Task)
	}
	return p.Run(ctx)
}

// Timeout gives upkeep longer than an email: a retention pass deletes in
// many short batches. It stays under the rescue delay, so a slow run is
// cancelled before another node would start the same one.
func (w *periodicWorker) Timeout(*river.Job[periodicArgs]) time.Duration { return w.timeout }

// periodicJobs registers the tasks' worker on workers and returns River's
// schedule for them. Each inserts its first run when a leader is elected
// (RunOnStart), so a period longer than a node's lifetime still runs.
func periodicJobs(workers *river.Workers, tasks []Periodic, timeout time.Duration) ([]*river.PeriodicJob, error) {
	if len(tasks) == 0 {
		return nil, nil
	}
	byTask := make(map[string]Periodic, len(tasks))
	out := make([]*river.PeriodicJob, 0, len(tasks))
	for _, p := range tasks {
		if p.Task == "" || p.Run == nil || p.Every < time.Second {
			return nil, fmt.Errorf("jobs: periodic task %q needs a name, a Run and a period of at least 1s", p.Task)
		}
		if _, dup := byTask[p.Task]; dup {
			return nil, fmt.Errorf("jobs: periodic task %q declared twice", p.Task)
		}
		byTask[p.Task] = p
		args, every := periodicArgs{Task: p.Task}, p.Every
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) {
				return args, &river.InsertOpts{
					Queue:       QueuePeriodic,
					MaxAttempts: periodicMaxAttempts,
					UniqueOpts:  river.UniqueOpts{ByArgs: true, ByPeriod: every},
				}
			}, &river.PeriodicJobOpts{ID: p.Task, RunOnStart: true}))
	}
	river.AddWorker(workers, &periodicWorker{tasks: byTask, timeout: timeout})
	return out, nil
}
