package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"instainstru/market"
	"instainstru/store/storetest"
)

// One append of events on interleaved topics gives each topic consecutive
// seqs in the order the events were given, and returns each event with the
// id, seq and payload its row holds.
func TestOneAppendOfInterleavedTopicsNumbersEachTopicInGivenOrder(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	order := []string{"t:b", "t:a", "t:b", "t:c", "t:a", "t:b"}
	commit := func(round int) []market.Event {
		evs := make([]market.NewEvent, len(order))
		for i, topic := range order {
			evs[i] = market.NewEvent{Topic: topic, Type: "x", Data: map[string]int{"round": round, "i": i}}
		}
		out, err := db.CommitEvents(ctx, evs)
		must(t, err)
		if len(out) != len(evs) {
			t.Fatalf("got %d events, want %d", len(out), len(evs))
		}
		return out
	}
	for round := 0; round < 2; round++ {
		out := commit(round)
		next := map[string]int64{}
		for i, ev := range out {
			perRound := map[string]int64{"t:a": 2, "t:b": 3, "t:c": 1}[ev.Topic]
			next[ev.Topic]++
			if want := int64(round)*perRound + next[ev.Topic]; ev.Topic != order[i] || ev.Seq != want {
				t.Fatalf("round %d event %d: topic %s seq %d, want %s seq %d", round, i, ev.Topic, ev.Seq, order[i], want)
			}
			var data map[string]int
			must(t, json.Unmarshal(ev.Data, &data))
			if data["i"] != i || data["round"] != round {
				t.Fatalf("round %d event %d carries %v", round, i, data)
			}
			stored, err := db.EventsAfter(ctx, ev.Topic, ev.Seq-1, 1)
			must(t, err)
			var storedData map[string]int
			if len(stored) == 1 {
				must(t, json.Unmarshal(stored[0].Data, &storedData))
			}
			if len(stored) != 1 || stored[0].ID != ev.ID || storedData["i"] != i || storedData["round"] != round || !stored[0].TS.Equal(ev.TS) {
				t.Fatalf("round %d event %d returned %+v, stored %+v", round, i, ev, stored)
			}
		}
	}
}

// Transactions appending to overlapping topics, given in opposite orders,
// neither deadlock nor leave a gap or a duplicate in any topic's seqs.
func TestConcurrentAppendsOnOverlappingTopicsStayGaplessWithoutDeadlock(t *testing.T) {
	db := storetest.NewDB(t)
	ctx := context.Background()
	topics := []string{"t:1", "t:2", "t:3", "t:4"}
	const workers, rounds = 6, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				evs := make([]market.NewEvent, 0, len(topics))
				for i := range topics {
					topic := topics[i]
					if w%2 == 1 {
						topic = topics[len(topics)-1-i]
					}
					evs = append(evs, market.NewEvent{Topic: topic, Type: "x", Data: fmt.Sprint(w, r)})
				}
				if _, err := db.CommitEvents(ctx, evs); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append: %v", err)
	}
	for _, topic := range topics {
		stored, err := db.EventsAfter(ctx, topic, 0, 1000)
		must(t, err)
		if len(stored) != workers*rounds {
			t.Fatalf("%s holds %d events, want %d", topic, len(stored), workers*rounds)
		}
		for i, ev := range stored {
			if ev.Seq != int64(i+1) {
				t.Fatalf("%s event %d has seq %d", topic, i, ev.Seq)
			}
		}
		if seq, err := db.TopicSeq(ctx, topic); err != nil || seq != workers*rounds {
			t.Fatalf("%s seq %d %v", topic, seq, err)
		}
	}
}
