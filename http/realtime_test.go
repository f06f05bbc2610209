package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	nethttp "net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"instainstru/hub"
	"instainstru/internal/eventually"
	"instainstru/market"
	"instainstru/store/storetest"
)

func TestEventCommittedOnNodeAReachesWatchersAndUsersOnBothNodes(t *testing.T) {
	forEachBroker(t, false, testEventCommittedOnNodeAReachesWatchersAndUsersOnBothNodes)
}

func testEventCommittedOnNodeAReachesWatchersAndUsersOnBothNodes(t *testing.T, bk rtBroker) {
	db := storetest.NewDB(t)
	a := bk.node(t, db, "node-a")
	b := bk.node(t, db, "node-b")
	topic := market.AvailabilityTopic(uuid.NewString())

	watchA := dialWS(t, a.ws, nil)
	watchB := dialWS(t, b.ws, nil)
	for _, w := range []*rtClient{watchA, watchB} {
		if wl := w.expect("welcome"); wl.UserID != nil {
			t.Fatalf("anonymous welcome has user_id %v", *wl.UserID)
		}
		if _, ack := w.subscribe(topic, -1); ack.Seq != 0 {
			t.Fatalf("ack seq %d on an empty topic", ack.Seq)
		}
	}
	token, uid := a.register("student")
	phoneB := dialWS(t, b.ws, bearer(token))
	laptopA := dialWS(t, a.ws, bearer(token))
	for _, c := range []*rtClient{phoneB, laptopA} {
		w := c.expect("welcome")
		if w.UserID == nil || *w.UserID != uid || len(w.Topics) != 1 || w.Topics[0] != market.UserTopic(uid) {
			t.Fatalf("welcome = %+v, want user %s with its private topic", w, uid)
		}
		if seq, ok := w.Seqs[market.UserTopic(uid)]; !ok || seq != 0 {
			t.Fatalf("welcome seqs = %v, want the private topic at 0", w.Seqs)
		}
	}
	// The private topic is joined asynchronously; a ping round trip orders it.
	for _, c := range []*rtClient{phoneB, laptopA} {
		c.send(map[string]any{"type": "ping"})
		c.expect("pong")
	}

	a.commit(availEvent(topic, 1), market.NewEvent{Topic: market.UserTopic(uid), Type: market.EventBookingConfirmed, Data: map[string]string{"id": "b1"}})

	for name, w := range map[string]*rtClient{"watcher on A": watchA, "watcher on B": watchB} {
		ev := w.events(topic, 1, 5*time.Second)[0]
		if ev.Seq != 1 || ev.Event != market.EventAvailabilityChanged || string(ev.Data) != `{"n":1}` {
			t.Fatalf("%s got %+v", name, ev)
		}
		if ev.TS.IsZero() || ev.received.Before(ev.TS) {
			t.Fatalf("%s: ts %v must be the commit time, before receipt %v", name, ev.TS, ev.received)
		}
	}
	for name, c := range map[string]*rtClient{"device on B": phoneB, "device on A": laptopA} {
		ev := c.events(market.UserTopic(uid), 1, 5*time.Second)[0]
		if ev.Event != market.EventBookingConfirmed || ev.Seq != 1 {
			t.Fatalf("%s got %+v", name, ev)
		}
	}
	watchA.quiet(300 * time.Millisecond)
	watchB.quiet(10 * time.Millisecond)
}

func TestResumeOnTheOtherNodeReplaysExactlyTheMissedEventsThenGoesLive(t *testing.T) {
	forEachBroker(t, false, testResumeOnTheOtherNodeReplaysExactlyTheMissedEventsThenGoesLive)
}

func testResumeOnTheOtherNodeReplaysExactlyTheMissedEventsThenGoesLive(t *testing.T, bk rtBroker) {
	db := storetest.NewDB(t)
	a := bk.node(t, db, "node-a")
	b := bk.node(t, db, "node-b")
	topic := market.AvailabilityTopic(uuid.NewString())

	c := dialWS(t, a.ws, nil)
	c.subscribe(topic, -1)
	for i := 1; i <= 5; i++ {
		a.commit(availEvent(topic, i))
	}
	got := c.events(topic, 5, 5*time.Second)
	assertSeqs(t, got, 1, 5)
	c.ws.Close(websocket.StatusNormalClosure, "going offline") //nolint:errcheck

	// 50 events while the client is away, committed through both nodes.
	for i := 6; i <= 55; i++ {
		if i%2 == 0 {
			a.commit(availEvent(topic, i))
		} else {
			b.commit(availEvent(topic, i))
		}
	}
	r := dialWS(t, b.ws, nil)
	r.expect("welcome")
	replay, ack := r.subscribe(topic, got[len(got)-1].Seq)
	assertSeqs(t, replay, 6, 55)
	if ack.Seq != 55 {
		t.Fatalf("ack seq %d, want 55 (the last replayed)", ack.Seq)
	}
	// Live events continue at 56, with nothing repeated at the seam.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // commits race the replay seam on purpose
		defer wg.Done()
		for i := 56; i <= 65; i++ {
			a.commit(availEvent(topic, i))
		}
	}()
	live := r.events(topic, 10, 5*time.Second)
	wg.Wait()
	assertSeqs(t, live, 56, 65)
	r.quiet(500 * time.Millisecond)
}

func TestSubscribeWhileEventsAreCommittedHasNoGapOrDuplicateAtTheSeam(t *testing.T) {
	forEachBroker(t, false, testSubscribeWhileEventsAreCommittedHasNoGapOrDuplicateAtTheSeam)
}

func testSubscribeWhileEventsAreCommittedHasNoGapOrDuplicateAtTheSeam(t *testing.T, bk rtBroker) {
	db := storetest.NewDB(t)
	a := bk.node(t, db, "node-a")
	b := bk.node(t, db, "node-b")
	topic := market.AvailabilityTopic(uuid.NewString())
	const total = 120
	stop := make(chan struct{})
	go func() {
		defer close(stop)
		for i := 1; i <= total; i++ {
			a.commit(availEvent(topic, i))
		}
	}()
	// Clients join at different moments of the stream, each from seq 0.
	var clients []*rtClient
	replays := map[*rtClient][]rtFrame{}
	for i := 0; i < 6; i++ {
		c := dialWS(t, b.ws, nil)
		c.expect("welcome")
		replays[c], _ = c.subscribe(topic, 0)
		clients = append(clients, c)
		time.Sleep(15 * time.Millisecond) // pacing: clients join while events are being committed
	}
	<-stop
	for _, c := range clients {
		rest := c.events(topic, total-len(replays[c]), 10*time.Second)
		assertSeqs(t, append(replays[c], rest...), 1, total)
		c.quiet(50 * time.Millisecond)
	}
}

func TestResumeFromPrunedHistoryAnswersReset(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo")
	topic := market.AvailabilityTopic(uuid.NewString())
	for i := 1; i <= 3; i++ {
		n.commit(availEvent(topic, i))
	}
	if _, err := storetest.Pool(db).Exec(context.Background(), `DELETE FROM events WHERE topic=$1 AND seq < 3`, topic); err != nil {
		t.Fatal(err)
	}
	c := dialWS(t, n.ws, nil)
	c.expect("welcome")
	id := c.send(map[string]any{"type": "subscribe", "topic": topic, "since": 0})
	reset := c.expect("reset")
	if reset.Topic != topic || reset.Seq != 3 {
		t.Fatalf("reset = %+v, want topic seq 3", reset)
	}
	ack := c.expect("ack")
	if string(ack.ID) != fmt.Sprint(id) || ack.Seq != 3 {
		t.Fatalf("ack = %+v", ack)
	}
	n.commit(availEvent(topic, 4))
	assertSeqs(t, c.events(topic, 1, 5*time.Second), 4, 4)
	if v := n.metric(t, "instainstru_resume_resets_total"); v != 1 {
		t.Fatalf("resets_total = %v", v)
	}
}

func TestRedisKilledAndRestartedDuringBookingStreamLosesNoEvents(t *testing.T) {
	forEachBroker(t, true, testRedisKilledAndRestartedDuringBookingStreamLosesNoEvents)
}

// On a cluster the master that holds both topics' channels is the one
// restarted; the other masters stay up.
func testRedisKilledAndRestartedDuringBookingStreamLosesNoEvents(t *testing.T, bk rtBroker) {
	db := storetest.NewDB(t)
	a := bk.node(t, db, "node-a")
	b := bk.node(t, db, "node-b")
	topics, crash := bk.topicsOnOneServer(t, 2)
	var restart func()
	var clients []*rtClient
	for _, n := range []*rtNode{a, b, a, b} {
		c := dialWS(t, n.ws, nil)
		c.expect("welcome")
		for _, tp := range topics {
			c.subscribe(tp, -1)
		}
		clients = append(clients, c)
	}
	const perTopic = 60
	start := time.Now()
	for i := 1; i <= perTopic; i++ {
		switch i {
		case 20:
			restart = crash()
		case 40:
			restart()
		}
		n := a
		if i%2 == 1 {
			n = b
		}
		n.commit(availEvent(topics[0], i), availEvent(topics[1], i))
		time.Sleep(25 * time.Millisecond) // pacing: commits spread over the time the other node's clients resubscribe
	}
	for ci, c := range clients {
		got := map[string][]rtFrame{}
		deadline := time.After(20 * time.Second)
		for len(got[topics[0]]) < perTopic || len(got[topics[1]]) < perTopic {
			select {
			case f := <-c.frames:
				if f.Type == "event" {
					got[f.Topic] = append(got[f.Topic], f)
				}
			case <-deadline:
				t.Fatalf("client %d: got %d and %d of %d events after Redis restart", ci, len(got[topics[0]]), len(got[topics[1]]), perTopic)
			}
		}
		for _, tp := range topics {
			assertSeqs(t, got[tp], 1, perTopic)
		}
		c.quiet(20 * time.Millisecond)
	}
	t.Logf("all %d clients complete %v after the stream began", len(clients), time.Since(start).Round(time.Millisecond))
}

func TestClientThatStopsReadingIsClosedWith4008WhileOthersKeepReceiving(t *testing.T) {
	forEachWriteMode(t, testClientThatStopsReadingIsClosedWith4008WhileOthersKeepReceiving)
}

func testClientThatStopsReadingIsClosedWith4008WhileOthersKeepReceiving(t *testing.T, mode rtNodeOpt) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo", func(c *NodeConfig) {
		c.Hub = hub.Options{QueueBytes: 256 << 10, WriteTimeout: time.Second}
	}, mode)
	flood := market.AvailabilityTopic(uuid.NewString())
	steady := market.AvailabilityTopic(uuid.NewString())

	// The slow client subscribes to a busy topic and never reads again; its
	// receive buffer is tiny, so the server's writes back up quickly.
	ctx := context.Background()
	slow, _, err := websocket.Dial(ctx, n.ws, &websocket.DialOptions{HTTPClient: &nethttp.Client{
		Transport: &nethttp.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				// Small, but not below what lets TCP send window updates
				// promptly once the client reads again.
				c.(*net.TCPConn).SetReadBuffer(64 << 10) //nolint:errcheck
			}
			return c, err
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow() //nolint:errcheck
	sub, _ := json.Marshal(map[string]any{"id": 1, "type": "subscribe", "topic": flood})
	if err := slow.Write(ctx, websocket.MessageText, sub); err != nil {
		t.Fatal(err)
	}
	// 100 healthy clients watch another topic on the same node.
	var others []*rtClient
	for i := 0; i < 100; i++ {
		c := dialWS(t, n.ws, nil)
		c.subscribe(steady, -1)
		others = append(others, c)
	}
	pad := strings.Repeat("x", 16<<10)
	const steadyEvents = 40
	for i := 1; i <= steadyEvents; i++ {
		batch := []market.NewEvent{availEvent(steady, i)}
		for j := 0; j < 16; j++ { // 256 KiB of flood per steady event, 10 MiB in all
			batch = append(batch, market.NewEvent{Topic: flood, Type: market.EventAvailabilityChanged, Data: map[string]any{"pad": pad}})
		}
		n.commit(batch...)
	}
	var worst time.Duration
	for _, c := range others {
		evs := c.events(steady, steadyEvents, 20*time.Second)
		assertSeqs(t, evs, 1, steadyEvents)
		for _, e := range evs {
			if d := e.received.Sub(e.TS); d > worst {
				worst = d
			}
		}
	}
	t.Logf("100 healthy clients got all %d events; worst commit→receive %v", steadyEvents, worst)
	if worst > 2*time.Second {
		t.Fatalf("healthy clients were held up %v by the slow one", worst)
	}

	eventually.Within(10*time.Second, func() bool { return n.metric(t, "instainstru_ws_slow_consumer_closes_total") >= 1 })
	if v := n.metric(t, "instainstru_ws_slow_consumer_closes_total"); v != 1 {
		t.Fatalf("slow consumer closes = %v, want exactly 1 (the slow client)", v)
	}
	// The slow client, reading again, finds its connection closed: with the
	// close frame (4008) when it fit in the socket, else cut after the
	// write timeout.
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	slow.SetReadLimit(1 << 20)
	for read := 0; ; read++ {
		if _, _, err := slow.Read(rctx); err != nil {
			if rctx.Err() != nil {
				t.Fatalf("slow client still connected after reading %d frames: %v", read, err)
			}
			if code := websocket.CloseStatus(err); code != -1 && code != hub.StatusSlowConsumer {
				t.Fatalf("close code %d, want 4008", code)
			}
			break
		}
	}
	// The node counts the disconnect once its side of the socket is torn
	// down, which may be a moment after the client saw it.
	eventually.Within(5*time.Second, func() bool { return n.metric(t, "instainstru_ws_disconnects_total", "code", "4008") >= 1 })
	if got := n.metric(t, "instainstru_ws_disconnects_total", "code", "4008"); got != 1 {
		t.Fatalf("disconnects{code=4008} = %v", got)
	}
}

func TestFiberTimeoutsNeverCloseAnOpenSocket(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo", func(c *NodeConfig) {
		c.HTTP.ReadTimeout, c.HTTP.WriteTimeout, c.HTTP.IdleTimeout = 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond
	})
	c := dialWS(t, n.ws, nil)
	c.expect("welcome")
	topic := market.AvailabilityTopic(uuid.NewString())
	c.subscribe(topic, -1)
	time.Sleep(1500 * time.Millisecond) // 7× every Fiber timeout, idle
	c.send(map[string]any{"type": "ping"})
	c.expect("pong")
	n.commit(availEvent(topic, 1))
	assertSeqs(t, c.events(topic, 1, 5*time.Second), 1, 1)
}

func TestProtocolErrorsGetErrorFramesAndTheConnectionStaysOpen(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo", func(c *NodeConfig) { c.Hub = hub.Options{MaxSubscriptions: 3} })
	token, uid := n.register("student")
	_, other := n.register("student")
	c := dialWS(t, n.ws, bearer(token))
	c.expect("welcome")
	tests := []struct {
		name  string
		frame string
		code  string
	}{
		{"not JSON", `{"type":`, "bad_frame"},
		{"JSON but not an object", `[1,2]`, "bad_frame"},
		{"unknown type", `{"id":7,"type":"dance"}`, "unknown_type"},
		{"another user's private topic", fmt.Sprintf(`{"id":8,"type":"subscribe","topic":"user:%s"}`, other), "forbidden"},
		{"unknown topic kind", `{"id":9,"type":"subscribe","topic":"admin:all"}`, "bad_topic"},
		{"availability topic with a bad id", `{"id":10,"type":"subscribe","topic":"availability:1 OR 1=1"}`, "bad_topic"},
		{"negative since", fmt.Sprintf(`{"id":11,"type":"subscribe","topic":"availability:%s","since":-5}`, uuid.NewString()), "bad_frame"},
		{"auth with a forged token", `{"id":12,"type":"auth","token":"eyJhbGciOiJub25lIn0.e30."}`, "unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			if err := c.ws.Write(context.Background(), websocket.MessageText, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			f := c.next(frameWait)
			if f.Type != "error" || f.Code != tc.code {
				t.Fatalf("got %+v, want error %s", f, tc.code)
			}
			var sent struct {
				ID json.RawMessage `json:"id"`
			}
			if json.Unmarshal([]byte(tc.frame), &sent) == nil && sent.ID != nil && string(f.ID) != string(sent.ID) {
				t.Fatalf("error id %s does not echo %s", f.ID, sent.ID)
			}
		})
	}
	c.t = t
	// Own private topic is allowed; the subscription limit (3, the private
	// topic included) is enforced.
	c.subscribe(market.UserTopic(uid), 0)
	c.subscribe(market.AvailabilityTopic(uuid.NewString()), -1)
	c.subscribe(market.AvailabilityTopic(uuid.NewString()), -1)
	c.send(map[string]any{"type": "subscribe", "topic": market.AvailabilityTopic(uuid.NewString())})
	if f := c.expect("error"); f.Code != "too_many_subscriptions" {
		t.Fatalf("got %s", f.Code)
	}
	c.send(map[string]any{"id": "abc", "type": "ping"})
	if f := c.expect("pong"); string(f.ID) != `"abc"` {
		t.Fatalf("pong id %s", f.ID)
	}
}

func TestConnectionLimitsCloseWithTheProtocolCodes(t *testing.T) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo", func(c *NodeConfig) {
		c.Hub = hub.Options{MaxFrameBytes: 1024, MessagesPerSecond: 5, MaxSubscriptions: 3}
	})
	t.Run("frame too big closes with 1009", func(t *testing.T) {
		c := dialWS(t, n.ws, nil)
		c.expect("welcome")
		c.ws.Write(context.Background(), websocket.MessageText, []byte(`{"type":"ping","pad":"`+strings.Repeat("x", 4096)+`"}`)) //nolint:errcheck
		if code := c.closeStatus(5 * time.Second); code != websocket.StatusMessageTooBig {
			t.Fatalf("close code %d, want 1009", code)
		}
	})
	t.Run("message flood closes with 4029", func(t *testing.T) {
		c := dialWS(t, n.ws, nil)
		c.expect("welcome")
		for i := 0; i < 50; i++ {
			if c.ws.Write(context.Background(), websocket.MessageText, []byte(`{"type":"ping"}`)) != nil {
				break
			}
		}
		if code := c.closeStatus(5 * time.Second); code != hub.StatusTooManyFrames {
			t.Fatalf("close code %d, want 4029", code)
		}
	})
}

func TestTokenExpiryClosesWith4001UnlessRefreshedWithAuth(t *testing.T) {
	db := storetest.NewDB(t)
	// JWT exp has whole seconds, so the first token lives 4–5 s.
	n := startNode(t, db, "", "", "solo", func(c *NodeConfig) { c.HTTP.AccessTTL = 5 * time.Second })
	token, _, email := n.registerEmail("student")
	stale := dialWS(t, n.ws, bearer(token))
	stale.expect("welcome")
	fresh := dialWS(t, n.ws, bearer(token))
	fresh.expect("welcome")
	// Refresh the second connection with a newer token of the same user
	// (issued over a second later, so its whole-second exp is later too).
	time.Sleep(1200 * time.Millisecond)
	resp, err := nethttp.Post(n.base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"`+email+`","password":"TestPassword123!"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&login) //nolint:errcheck
	resp.Body.Close()
	fresh.send(map[string]any{"type": "auth", "token": login.AccessToken})
	fresh.expect("ack")
	if code := stale.closeStatus(10 * time.Second); code != hub.StatusTokenExpired {
		t.Fatalf("stale connection closed with %d, want 4001", code)
	}
	time.Sleep(500 * time.Millisecond) // past the first token's expiry, before the second's
	fresh.send(map[string]any{"type": "ping"})
	fresh.expect("pong")
}

func TestTicketAuthIsSingleUseAndWorksOnEveryNode(t *testing.T) {
	forEachBroker(t, false, testTicketAuthIsSingleUseAndWorksOnEveryNode)
}

func testTicketAuthIsSingleUseAndWorksOnEveryNode(t *testing.T, bk rtBroker) {
	db := storetest.NewDB(t)
	a := bk.node(t, db, "node-a")
	b := bk.node(t, db, "node-b")
	token, uid := a.register("student")
	req, _ := nethttp.NewRequest("POST", a.base+"/api/v1/ws/ticket", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tk struct {
		Ticket    string `json:"ticket"`
		ExpiresIn int    `json:"expires_in"`
	}
	json.NewDecoder(resp.Body).Decode(&tk) //nolint:errcheck
	resp.Body.Close()
	if resp.StatusCode != 201 || tk.Ticket == "" || tk.ExpiresIn <= 0 {
		t.Fatalf("ticket: status %d %+v", resp.StatusCode, tk)
	}
	c := dialWS(t, b.ws+"?ticket="+tk.Ticket, nil) // issued on A, redeemed on B
	if w := c.expect("welcome"); w.UserID == nil || *w.UserID != uid {
		t.Fatalf("welcome %+v", w)
	}
	if _, err := dialWSErr(a.ws+"?ticket="+tk.Ticket, nil); err == nil {
		t.Fatal("a used ticket was accepted again")
	}
	if _, err := dialWSErr(a.ws+"?ticket=forged", nil); err == nil {
		t.Fatal("a forged ticket was accepted")
	}
	if _, err := dialWSErr(a.ws, bearer("not-a-jwt")); err == nil {
		t.Fatal("a forged bearer token was accepted")
	}
	resp, _ = nethttp.Post(a.base+"/api/v1/ws/ticket", "application/json", nil)
	if resp.StatusCode != 401 {
		t.Fatalf("ticket without token: %d", resp.StatusCode)
	}
}

func TestShutdownClosesSocketsWith1012(t *testing.T) {
	forEachWriteMode(t, testShutdownClosesSocketsWith1012)
}

func testShutdownClosesSocketsWith1012(t *testing.T, mode rtNodeOpt) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo", mode)
	c := dialWS(t, n.ws, nil)
	c.expect("welcome")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := n.node.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code := c.closeStatus(5 * time.Second); code != hub.StatusServiceRestart {
		t.Fatalf("close code %d, want 1012", code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	if _, err := dialWSErr(n.ws, nil); err == nil {
		t.Fatal("a stopped node accepted a connection")
	}
}

func TestBookingOnNodeAIsPushedToInstructorOnBStudentDevicesAndWatchersOnBoth(t *testing.T) {
	forEachBroker(t, false, testBookingOnNodeAIsPushedToInstructorOnBStudentDevicesAndWatchersOnBoth)
}

func testBookingOnNodeAIsPushedToInstructorOnBStudentDevicesAndWatchersOnBoth(t *testing.T, bk rtBroker) {
	db := storetest.NewDB(t)
	a := bk.node(t, db, "node-a")
	b := bk.node(t, db, "node-b")
	date := time.Now().In(mustLoc(t, market.DefaultTimezone)).AddDate(0, 0, 3).Format(time.DateOnly)
	instToken, instID, offer := a.bookableInstructor(db, date)
	studToken, studID := a.register(market.RoleStudent)

	var avail market.Availability
	if st := b.call("GET", "/api/v1/instructors/"+instID+"/availability?from="+date+"&to="+date, "", nil, &avail); st != 200 {
		t.Fatalf("availability: %d", st)
	}
	topic := market.AvailabilityTopic(instID)
	instructorOnB := dialWS(t, b.ws, bearer(instToken))
	studentPhoneOnA := dialWS(t, a.ws, bearer(studToken))
	studentLaptopOnB := dialWS(t, b.ws, bearer(studToken))
	watchers := map[string]*rtClient{"anonymous on A": dialWS(t, a.ws, nil), "anonymous on B": dialWS(t, b.ws, nil)}
	for _, c := range []*rtClient{instructorOnB, studentPhoneOnA, studentLaptopOnB} {
		c.expect("welcome")
		c.send(map[string]any{"type": "ping"})
		c.expect("pong")
	}
	for _, w := range watchers {
		w.expect("welcome")
		// Subscribe from the snapshot's seq: the seam the SPEC promises.
		if replay, ack := w.subscribe(topic, avail.Seq); len(replay) != 0 || ack.Seq != avail.Seq {
			t.Fatalf("subscribe from snapshot seq %d: replay %d, ack %d", avail.Seq, len(replay), ack.Seq)
		}
	}

	var booking market.Booking
	if st := a.call("POST", "/api/v1/bookings", studToken, map[string]any{
		"instructor_id": instID, "instructor_service_id": offer, "date": date, "start_time": "10:00", "duration_minutes": 60,
	}, &booking); st != 201 {
		t.Fatalf("book: %d", st)
	}

	created := instructorOnB.events(market.UserTopic(instID), 1, 5*time.Second)[0]
	if created.Event != market.EventBookingCreated {
		t.Fatalf("instructor got %s", created.Event)
	}
	var pushed market.Booking
	json.Unmarshal(created.Data, &pushed) //nolint:errcheck
	if pushed.ID != booking.ID || pushed.StudentID != studID || pushed.StartTime != "10:00" || pushed.Status != "confirmed" {
		t.Fatalf("booking.created data %s", created.Data)
	}
	for name, c := range map[string]*rtClient{"phone on A": studentPhoneOnA, "laptop on B": studentLaptopOnB} {
		ev := c.events(market.UserTopic(studID), 1, 5*time.Second)[0]
		if ev.Event != market.EventBookingConfirmed || !strings.Contains(string(ev.Data), booking.ID) {
			t.Fatalf("student %s got %s %s", name, ev.Event, ev.Data)
		}
	}
	for name, w := range watchers {
		ev := w.events(topic, 1, 5*time.Second)[0]
		if ev.Event != market.EventAvailabilityChanged || ev.Seq != avail.Seq+1 {
			t.Fatalf("%s got %s seq %d", name, ev.Event, ev.Seq)
		}
		var data market.AvailabilityChanged
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			t.Fatal(err)
		}
		want := []market.Interval{{Start: "09:00", End: "10:00"}, {Start: "11:00", End: "12:00"}}
		if data.InstructorID != instID || len(data.Days) != 1 || data.Days[0].Date != date ||
			fmt.Sprint(data.Days[0].Open) != fmt.Sprint(want) {
			t.Fatalf("%s: availability.changed data %s, want open %v", name, ev.Data, want)
		}
		t.Logf("%s: commit→receive %v", name, ev.received.Sub(ev.TS))
	}
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestEventCommittedButNeverPublishedIsDeliveredByTheRelay(t *testing.T) {
	forEachBroker(t, false, testEventCommittedButNeverPublishedIsDeliveredByTheRelay)
}

func testEventCommittedButNeverPublishedIsDeliveredByTheRelay(t *testing.T, bk rtBroker) {
	db := storetest.NewDB(t)
	a := bk.node(t, db, "node-a")
	b := bk.node(t, db, "node-b")
	topic := market.AvailabilityTopic(uuid.NewString())
	c := dialWS(t, b.ws, nil)
	c.expect("welcome")
	c.subscribe(topic, -1)
	// A node "crashes" between commit and publish: the rows exist, nobody
	// published them.
	if _, err := db.CommitEvents(context.Background(), []market.NewEvent{availEvent(topic, 1), availEvent(topic, 2)}); err != nil {
		t.Fatal(err)
	}
	assertSeqs(t, c.events(topic, 2, 10*time.Second), 1, 2)
	eventually.True(t, 5*time.Second, "the relay to publish every event (outbox lag 0)", func() bool {
		lag, err := db.OutboxLag(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return lag == 0
	})
	if got := a.metric(t, "instainstru_outbox_republished_total") + b.metric(t, "instainstru_outbox_republished_total"); got != 2 {
		t.Fatalf("republished_total over both nodes = %v, want 2 (one relay active)", got)
	}
}

func TestDeletingAUserClosesTheirSocketsOnTheNode(t *testing.T) {
	forEachWriteMode(t, testDeletingAUserClosesTheirSocketsOnTheNode)
}

func testDeletingAUserClosesTheirSocketsOnTheNode(t *testing.T, mode rtNodeOpt) {
	db := storetest.NewDB(t)
	n := startNode(t, db, "", "", "solo", mode)
	token, uid := n.register(market.RoleStudent)
	c := dialWS(t, n.ws, bearer(token))
	c.expect("welcome")

	hash, _ := bcrypt.GenerateFromPassword([]byte("TestPassword123!"), bcrypt.MinCost)
	if _, err := db.CreateUser(context.Background(), market.NewUser{Email: "root@example.com",
		PasswordHash: string(hash), FullName: "Admin", Role: market.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if st := n.call("POST", "/api/v1/auth/login", "", map[string]string{"email": "root@example.com", "password": "TestPassword123!"}, &login); st != 200 {
		t.Fatalf("admin login: %d", st)
	}
	if st := n.call("DELETE", "/api/v1/admin/users/"+uid, login.AccessToken, nil, nil); st != 204 {
		t.Fatalf("delete user: %d", st)
	}
	if code := c.closeStatus(5 * time.Second); code != hub.StatusTokenExpired {
		t.Fatalf("close code %d, want 4001", code)
	}
	if _, err := dialWSErr(n.ws, bearer(token)); err == nil {
		t.Fatal("a deleted user's token opened a socket")
	}
}
