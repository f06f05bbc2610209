package http

import "instainstru/market"

// watchOps documents watches ("tell me when a time opens").
func watchOps() []apiOp {
	return []apiOp{
		{Method: "POST", Path: "/api/v1/watches", Tag: "watches",
			Summary: "Watch an instructor's schedule: days (weekday names, empty = any), time_of_day (morning 06–12, " +
				"afternoon 12–17, evening 17–23 local start times, null = any) and from..to (at most 60 days, from not in the past). " +
				"When matching time opens (a new window, a cancellation) the caller gets a slot.opened notification " +
				"(inbox, push on user:<id>, email per settings), at most once per watch per hour. 422 for bad input or an unknown " +
				"instructor, 409 past the per-user cap of active watches.",
			Auth: market.PermWatchesManage, Request: market.WatchInput{}, Status: 201, Response: market.Watch{}},
		{Method: "GET", Path: "/api/v1/watches", Tag: "watches",
			Summary: "My watches that have not ended (a watch ends after its \"to\" date)",
			Auth:    market.PermWatchesManage, Status: 200, Response: watchListView{}},
		{Method: "DELETE", Path: "/api/v1/watches/:id", Tag: "watches",
			Summary: "Delete one of my watches (404 if not mine)", Auth: market.PermWatchesManage, Status: 204},
	}
}
