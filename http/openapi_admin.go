package http

import (
	"instainstru/market"
)

// withRoutePermissions sets each operation's Auth to the permission its
// route was registered with (handle); routes registered without one keep
// what the table says (public, monitoring key, ticket).
func (s *Server) withRoutePermissions(ops []apiOp) []apiOp {
	for i := range ops {
		if p, ok := s.RoutePermission(ops[i].Method, ops[i].Path); ok {
			ops[i].Auth = p
		}
	}
	return ops
}

// adminAPIOps documents the access-model, console and analytics routes.
func adminAPIOps() []apiOp {
	dateSchema := map[string]any{"type": "string", "format": "date", "example": "2026-12-07"}
	rangeParams := []apiParam{
		param("from", apiParam{Description: "first date (America/New_York), default 29 days before to", Schema: dateSchema}),
		param("to", apiParam{Description: "last date, inclusive; at most 366 days after from", Schema: dateSchema}),
	}
	pagingParams := []apiParam{
		param("limit", apiParam{Description: "page size, 1..100 (default 20)",
			Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxPageLimit, "default": defaultPageLimit}}),
		param("cursor", str("opaque next_cursor of the previous page")),
	}
	uuidQuery := func(name, desc string) apiParam {
		return param(name, apiParam{Description: desc, Schema: map[string]any{"type": "string", "format": "uuid"}})
	}
	ops := []apiOp{
		{Method: "GET", Path: "/api/v1/admin/permissions", Tag: "admin", Summary: "Every role's grants and every permission",
			Status: 200, Response: permissionsResponse{}},
		{Method: "PUT", Path: "/api/v1/admin/roles/:role/permissions", Tag: "admin",
			Summary: "Replace a role's grants (422 for unknown names or when no one could manage users or grants)",
			Request: rolePermissionsRequest{}, Status: 200, Response: rolePermissionsResponse{}},
		{Method: "GET", Path: "/api/v1/admin/audit", Tag: "admin", Summary: "Admin actions, newest first",
			Query: pagingParams, Status: 200, Response: auditResponse{}},
		{Method: "GET", Path: "/api/v1/admin/bookings", Tag: "admin", Summary: "Every booking, filtered, latest lesson first",
			Query: append([]apiParam{
				uuidQuery("instructor_id", "only this instructor's"), uuidQuery("student_id", "only this student's"),
				param("q", str("text in the student's or instructor's name or email")),
				param("from", apiParam{Description: "first lesson date", Schema: dateSchema}),
				param("to", apiParam{Description: "last lesson date (inclusive)", Schema: dateSchema}),
				param("status", apiParam{Description: "booking status", Schema: map[string]any{"type": "string",
					"enum": []string{market.BookingConfirmed, market.BookingCancelled, market.BookingCompleted, market.BookingNoShow}}}),
			}, pagingParams...),
			Status: 200, Response: adminBookingList{}},
		{Method: "POST", Path: "/api/v1/admin/bookings/:id/cancel", Tag: "admin",
			Summary: "Cancel any booking with a reason (both parties and watchers are pushed the change)",
			Request: adminCancelRequest{}, Status: 200, Response: market.Booking{}},
		{Method: "GET", Path: "/api/v1/admin/instructors", Tag: "admin",
			Summary: "Every instructor's listing state and utilisation (default: the next 14 days)",
			Query:   rangeParams, Status: 200, Response: adminInstructorList{}},
	}
	for _, a := range (&Server{}).analyticsEndpoints() {
		ops = append(ops, apiOp{Method: "GET", Path: "/api/v1/admin/analytics/" + a.name, Tag: "analytics",
			Summary: a.summary + " (dates in " + market.AnalyticsZone + ")", Query: rangeParams, Status: 200,
			Response: a.doc})
	}
	return ops
}

// analyticsMeta is what every analytics answer has besides its series.
type analyticsMeta struct {
	From      string          `json:"from"`
	To        string          `json:"to"`
	Available map[string]bool `json:"available,omitempty"`
}

// The documented shapes of the analytics answers (OpenAPI only).
type (
	bookingSeriesDoc struct {
		analyticsMeta
		Series []market.BookingDay `json:"series"`
	}
	lateCancellationSeriesDoc struct {
		analyticsMeta
		Series []market.LateCancellationDay `json:"series"`
	}
	searchSeriesDoc struct {
		analyticsMeta
		Series []market.SearchDay `json:"series"`
	}
	conversionSeriesDoc struct {
		analyticsMeta
		Series []market.ConversionDay `json:"series"`
	}
	rankedSeriesDoc struct {
		analyticsMeta
		Series []market.RankedCount `json:"series"`
	}
	utilisationSeriesDoc struct {
		analyticsMeta
		Series []market.UtilisationDay `json:"series"`
	}
	notificationSeriesDoc struct {
		analyticsMeta
		Series []market.NotificationDay `json:"series"`
	}
)
