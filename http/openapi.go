package http

import (
	"encoding/json"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// The OpenAPI document is generated from apiOps, a table with one row per
// route. To document a new route, append a row there (tests fail for any
// registered route that has none). Request and response schemas are derived
// from the Go types the handlers bind and return (json tags; `validate`
// tags give required/enum/min/max), or given as a literal schema map.

// Auth requirements of an operation.
const (
	authPublic     = ""           // no credentials
	authBearer     = "bearer"     // any signed-in user
	authMonitoring = "monitoring" // X-Monitoring-API-Key or Bearer <key>, when configured
	authTicket     = "ticket"     // WebSocket: Bearer JWT, ?ticket=, or anonymous
	// any other value is a permission name: a bearer token whose user holds it
)

// apiOp documents one route.
type apiOp struct {
	Method   string // GET, POST…
	Path     string // Fiber syntax: /api/v1/instructors/:id
	Tag      string
	Summary  string
	Auth     string
	Query    []apiParam
	Headers  []apiParam
	Request  any // Go value whose type is the JSON body, or a schema map; nil: no body
	Status   int // success status
	Response any // Go value, schema map, or nil for no body

	// For bodies that are not JSON (photos): RequestTypes are the media
	// types the request body may have, each with the Request schema;
	// ResponseType replaces application/json for the success body;
	// PathSchema replaces the uuid schema of path parameters; Errors adds
	// error responses by status ("413": "why").
	RequestTypes []string
	ResponseType string
	PathSchema   map[string]any
	Errors       map[string]string
}

// apiParam is a query or header parameter.
type apiParam struct {
	Name, Description string
	Schema            map[string]any
	Required          bool
}

func str(desc string) apiParam {
	return apiParam{Description: desc, Schema: map[string]any{"type": "string"}}
}

func param(name string, p apiParam) apiParam { p.Name = name; return p }

// apiOps is the route table the document is built from.
func apiOps() []apiOp {
	pagingParams := []apiParam{
		param("limit", apiParam{Description: "page size, 1..100 (default 20)",
			Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxPageLimit, "default": defaultPageLimit}}),
		param("cursor", str("opaque next_cursor of the previous page")),
	}

	// Literal schemas for bodies whose Go types live in other files' handlers.
	dateSchema := map[string]any{"type": "string", "format": "date", "example": "2026-12-07"}
	clockSchema := map[string]any{"type": "string", "pattern": "^([01][0-9]|2[0-4]):[0-5][0-9]$", "example": "09:00"}
	windowBody := object(map[string]any{"date": dateSchema, "start": clockSchema, "end": clockSchema}, "date", "start", "end")
	weekBody := object(map[string]any{
		"week_start": dateSchema,
		"days": array(object(map[string]any{
			"date":    dateSchema,
			"windows": array(object(map[string]any{"start": clockSchema, "end": clockSchema}, "start", "end")),
		}, "date", "windows")),
	}, "week_start", "days")
	copyWeekBody := object(map[string]any{"from_week_start": dateSchema, "to_week_start": dateSchema},
		"from_week_start", "to_week_start")
	applyPatternBody := object(map[string]any{"week_start": dateSchema, "from": dateSchema, "to": dateSchema},
		"week_start", "from", "to")
	bookingBody := object(map[string]any{
		"instructor_id":         map[string]any{"type": "string", "format": "uuid"},
		"instructor_service_id": map[string]any{"type": "string", "format": "uuid"},
		"date":                  dateSchema,
		"start_time":            clockSchema,
		"duration_minutes": map[string]any{"type": "integer", "minimum": market.MinDurationMinutes,
			"maximum": market.MaxDurationMinutes, "multipleOf": market.SlotMinutes},
		"note": map[string]any{"type": "string", "maxLength": market.MaxNoteLen},
		"area": map[string]any{"type": "string", "maxLength": market.MaxAreaLen,
			"description": "one of the instructor's areas (422 otherwise); default: the instructor's first area"},
		"address": map[string]any{"type": "string", "maxLength": market.MaxAddressLen, "nullable": true,
			"description": "meeting address or note; shown to the two parties (and admins) only; no control or bidi formatting characters"},
	}, "instructor_id", "instructor_service_id", "date", "start_time", "duration_minutes")
	cancelBody := object(map[string]any{"reason": map[string]any{"type": "string", "maxLength": market.MaxNoteLen}})
	rescheduleBody := object(map[string]any{"date": dateSchema, "start_time": clockSchema}, "date", "start_time")
	bookingList := object(map[string]any{"items": array(ref("Booking")), "next_cursor": nullableString()}, "items")
	ticketResponse := object(map[string]any{
		"ticket": map[string]any{"type": "string"}, "expires_in": map[string]any{"type": "integer"},
	}, "ticket")
	anyObject := map[string]any{"type": "object"}
	uuidParam := param("service_id", apiParam{Description: "only instructors offering this catalog service",
		Schema: map[string]any{"type": "string", "format": "uuid"}})
	ops := []apiOp{
		// ops
		{Method: "GET", Path: "/health", Tag: "ops", Summary: "Process is up", Status: 200, Response: anyObject},
		{Method: "GET", Path: "/ready", Tag: "ops", Summary: "Postgres and (if configured) Redis are reachable", Status: 200, Response: anyObject},
		{Method: "GET", Path: "/metrics", Tag: "ops", Summary: "Prometheus metrics (text format)", Auth: authMonitoring, Status: 200,
			Response: map[string]any{"type": "string"}},
		{Method: "GET", Path: "/openapi.json", Tag: "ops", Summary: "This document", Status: 200, Response: anyObject},

		// auth
		{Method: "POST", Path: "/api/v1/auth/register", Tag: "auth", Summary: "Create a student or instructor account",
			Request: registerRequest{}, Status: 201, Response: tokenResponse{}},
		{Method: "POST", Path: "/api/v1/auth/login", Tag: "auth", Summary: "Log in (rate-limited per IP and per account)",
			Request: loginRequest{}, Status: 200, Response: tokenResponse{}},
		{Method: "POST", Path: "/api/v1/auth/refresh", Tag: "auth",
			Summary: "Rotate a refresh token (the body's, else the ii_refresh cookie with X-Requested-With: fetch); reusing a spent one revokes its family",
			Request: refreshRequest{}, Status: 200, Response: tokenResponse{}},
		{Method: "POST", Path: "/api/v1/auth/logout", Tag: "auth", Summary: "Revoke the refresh token's family (the body's or the cookie's) and clear the cookie",
			Request: refreshRequest{}, Status: 204},
		{Method: "GET", Path: "/api/v1/auth/me", Tag: "auth", Summary: "The caller, roles and permissions", Auth: market.PermAccountRead,
			Status: 200, Response: meResponse{}},

		// catalog
		{Method: "GET", Path: "/api/v1/categories", Tag: "catalog", Summary: "Catalog categories", Status: 200, Response: categoryList{}},
		{Method: "GET", Path: "/api/v1/services", Tag: "catalog", Summary: "Catalog services",
			Query:  []apiParam{param("category", str("category id or slug")), param("q", str("text in name or description"))},
			Status: 200, Response: serviceList{}},

		{Method: "GET", Path: "/api/v1/areas", Tag: "catalog", Summary: "NYC neighbourhoods instructors may serve",
			Status: 200, Response: areaList{}},

		// instructors
		{Method: "GET", Path: "/api/v1/instructors", Tag: "instructors", Summary: "Browse instructors (keyset pages by name)",
			Query:  append([]apiParam{uuidParam, param("q", str("text in name, bio or offered service"))}, pagingParams...),
			Status: 200, Response: instructorList{}},
		{Method: "GET", Path: "/api/v1/instructors/:id", Tag: "instructors", Summary: "An instructor and their active services",
			Status: 200, Response: instructorDetail{}},
		{Method: "GET", Path: "/api/v1/instructors/me", Tag: "instructors", Summary: "Own profile, removed services included",
			Auth: market.PermProfileRead, Status: 200, Response: ownProfile{}},
		{Method: "PUT", Path: "/api/v1/instructors/me", Tag: "instructors", Summary: "Replace own profile; areas are neighbourhoods of GET /areas (name or alias, any case), others 422",
			Auth: market.PermProfileManage, Request: profileRequest{}, Status: 200, Response: ownProfile{}},
		{Method: "POST", Path: "/api/v1/instructors/me/services", Tag: "instructors", Summary: "Offer a catalog service",
			Auth: market.PermServicesManage, Request: addServiceRequest{}, Status: 201, Response: market.InstructorService{}},
		{Method: "PATCH", Path: "/api/v1/instructors/me/services/:id", Tag: "instructors", Summary: "Change price or durations",
			Auth: market.PermServicesManage, Request: updateServiceRequest{}, Status: 200, Response: market.InstructorService{}},
		{Method: "DELETE", Path: "/api/v1/instructors/me/services/:id", Tag: "instructors",
			Summary: "Stop offering a service (soft delete; bookings keep it)", Auth: market.PermServicesManage, Status: 204},

		// availability
		{Method: "GET", Path: "/api/v1/instructors/:id/availability", Tag: "availability",
			Summary: "Windows, open intervals and the topic seq per day",
			Query: []apiParam{
				param("from", apiParam{Description: "first date", Schema: dateSchema, Required: true}),
				param("to", apiParam{Description: "last date (inclusive)", Schema: dateSchema, Required: true}),
			},
			Status: 200, Response: availabilityResponse{}},
		{Method: "POST", Path: "/api/v1/instructors/me/availability", Tag: "availability", Summary: "Add one window",
			Auth: market.PermAvailabilityManage, Request: windowBody, Status: 201, Response: market.Window{}},
		{Method: "DELETE", Path: "/api/v1/instructors/me/availability/:id", Tag: "availability", Summary: "Remove one window",
			Auth: market.PermAvailabilityManage, Status: 204},
		{Method: "PUT", Path: "/api/v1/instructors/me/availability/week", Tag: "availability",
			Summary: "Replace one Monday-started week atomically", Auth: market.PermAvailabilityManage,
			Request: weekBody, Status: 200, Response: availabilityResponse{}},
		{Method: "POST", Path: "/api/v1/instructors/me/availability/copy-week", Tag: "availability",
			Summary: "Copy one week onto another", Auth: market.PermAvailabilityManage,
			Request: copyWeekBody, Status: 200, Response: availabilityResponse{}},
		{Method: "POST", Path: "/api/v1/instructors/me/availability/apply-pattern", Tag: "availability",
			Summary: "Copy a week onto a date range", Auth: market.PermAvailabilityManage,
			Request: applyPatternBody, Status: 200, Response: availabilityResponse{}},

		// bookings
		{Method: "POST", Path: "/api/v1/bookings", Tag: "bookings", Summary: "Book a lesson instantly (409 slot_unavailable)",
			Auth: market.PermBookingsCreate,
			Headers: []apiParam{param("Idempotency-Key", apiParam{Description: "replays return the first result",
				Schema: map[string]any{"type": "string", "maxLength": market.MaxIdempotencyKeyLen}})},
			Request: bookingBody, Status: 201, Response: market.Booking{}},
		{Method: "GET", Path: "/api/v1/bookings", Tag: "bookings", Summary: "My lessons",
			Auth: market.PermBookingsRead,
			Query: append([]apiParam{param("scope", apiParam{Description: "upcoming or past",
				Schema: map[string]any{"type": "string", "enum": []string{"upcoming", "past"}}})}, pagingParams...),
			Status: 200, Response: bookingList},
		{Method: "GET", Path: "/api/v1/bookings/:id", Tag: "bookings", Summary: "One of my bookings",
			Auth: market.PermBookingsRead, Status: 200, Response: bookingOut{}},
		{Method: "POST", Path: "/api/v1/bookings/:id/cancel", Tag: "bookings", Summary: "Cancel a booking",
			Auth: market.PermBookingsManage, Request: cancelBody, Status: 200, Response: bookingOut{}},
		{Method: "POST", Path: "/api/v1/bookings/:id/reschedule", Tag: "bookings",
			Summary: "Move a booking atomically (it moves or nothing changes)", Auth: market.PermBookingsManage,
			Request: rescheduleBody, Status: 200, Response: bookingOut{}},
		{Method: "POST", Path: "/api/v1/bookings/:id/no-show", Tag: "bookings",
			Summary: "The instructor reports that the student did not come (within 48 h after the end; 403 for the student; 409 outside the window or unless confirmed/completed)",
			Auth:    market.PermBookingsManage, Status: 200, Response: market.Booking{}},

		// notifications
		{Method: "GET", Path: "/api/v1/notifications", Tag: "notifications", Summary: "My notifications, newest first, and the unread count",
			Auth: market.PermNotificationsRead, Query: append([]apiParam{param("unread", apiParam{Description: "only unread ones",
				Schema: map[string]any{"type": "boolean"}})}, pagingParams...), Status: 200, Response: notificationList{}},
		{Method: "POST", Path: "/api/v1/notifications/read", Tag: "notifications",
			Summary: `Mark notifications read: {"ids":[…]} or {"all":true}; other users' ids are ignored`,
			Auth:    market.PermNotificationsRead, Request: readRequest{}, Status: 204},
		{Method: "GET", Path: "/api/v1/me/notification-settings", Tag: "notifications", Summary: "My notification settings",
			Auth: market.PermNotificationsRead, Status: 200, Response: market.NotificationSettings{}},
		{Method: "PUT", Path: "/api/v1/me/notification-settings", Tag: "notifications",
			Summary: "Change my notification settings (omitted fields keep their value)",
			Auth:    market.PermNotificationsRead, Request: settingsRequest{}, Status: 200, Response: market.NotificationSettings{}},

		// realtime
		{Method: "POST", Path: "/api/v1/ws/ticket", Tag: "realtime", Summary: "Single-use, short-lived WebSocket ticket",
			Auth: market.PermRealtimeSubscribe, Status: 200, Response: ticketResponse},
		{Method: "GET", Path: "/ws", Tag: "realtime",
			Summary: "WebSocket upgrade (Bearer JWT, ?ticket=, or anonymous for public topics)", Auth: authTicket,
			Query: []apiParam{param("ticket", str("from POST /api/v1/ws/ticket"))}, Status: 101},

		// search
		{Method: "GET", Path: "/api/v1/search", Tag: "search",
			Summary: "Natural-language instructor search (anonymous or signed in; a signed-in search joins the caller's history)",
			Query: []apiParam{
				param("q", apiParam{Description: "free text, e.g. \"guitar lessons in brooklyn under $80 saturday morning\"",
					Schema: map[string]any{"type": "string", "minLength": 1, "maxLength": market.MaxSearchQueryChars}, Required: true}),
				param("limit", apiParam{Description: "results, 1..50 (default 10)",
					Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxSearchLimit, "default": defaultSearchLimit}}),
				param("exact", apiParam{Description: "1: search the words as typed, without typo correction (\"search instead for …\")",
					Schema: map[string]any{"type": "string", "enum": []string{"0", "1", "true", "false"}}}),
			},
			Status: 200, Response: searchView{}},
		{Method: "GET", Path: "/api/v1/search/suggest", Tag: "search",
			Summary: "Completions while typing: services, areas, instructors and (signed in) recent searches",
			Query: []apiParam{
				param("q", apiParam{Description: "what has been typed so far (empty: recent searches only)",
					Schema: map[string]any{"type": "string", "maxLength": market.MaxSearchQueryChars}}),
				param("limit", apiParam{Description: "items, 1..20 (default 8)",
					Schema: map[string]any{"type": "integer", "minimum": 1, "maximum": maxSuggestLimit, "default": defaultSuggestLimit}}),
			},
			Status: 200, Response: suggestView{}},
		{Method: "GET", Path: "/api/v1/search/history", Tag: "search",
			Summary: "My recent searches, newest first (a repeated query appears once)", Auth: authBearer,
			Query: pagingParams[:1], Status: 200, Response: searchHistoryView{}},
		{Method: "DELETE", Path: "/api/v1/search/history/:id", Tag: "search",
			Summary: "Delete one of my recent searches (404 if not mine)", Auth: authBearer, Status: 204},
		{Method: "DELETE", Path: "/api/v1/search/history", Tag: "search",
			Summary: "Delete all my recent searches", Auth: authBearer, Status: 204},

		// admin
		{Method: "GET", Path: "/api/v1/admin/users", Tag: "admin", Summary: "Users by email (keyset pages)",
			Auth: market.PermUsersRead, Query: append([]apiParam{param("q", str("text in email or name"))}, pagingParams...),
			Status: 200, Response: userListResponse{}},
		{Method: "PATCH", Path: "/api/v1/admin/users/:id", Tag: "admin", Summary: "Replace a user's roles",
			Auth: market.PermUsersManage, Request: setRolesRequest{}, Status: 200, Response: adminUserView{}},
		{Method: "DELETE", Path: "/api/v1/admin/users/:id", Tag: "admin",
			Summary: "Delete a user's account (same path as DELETE /me)", Auth: market.PermUsersDeactivate, Status: 204},
	}
	ops = append(ops, adminAPIOps()...)
	ops = append(ops, verifyResetOps()...)
	ops = append(ops, photoOps()...)
	ops = append(ops, watchOps()...)
	ops = append(ops, conversationOps()...)
	ops = append(ops, calendarOps()...)
	return append(ops, privacyOps()...)
}

// openAPI serves the document with each operation's x-permission taken
// from the route registration itself (handle), so the two cannot drift.
func (s *Server) openAPI(c *fiber.Ctx) error {
	return c.JSON(buildOpenAPI(s.withRoutePermissions(apiOps())))
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)\??`)

// openAPIPath converts Fiber's ":param" to OpenAPI's "{param}".
func openAPIPath(p string) string { return fiberParam.ReplaceAllString(p, "{$1}") }

// buildOpenAPI renders ops as an OpenAPI 3.0 document.
func buildOpenAPI(ops []apiOp) map[string]any {
	sg := &schemaGen{defs: map[string]any{"Error": errorSchema()}}
	paths := map[string]any{}
	for _, op := range ops {
		path := openAPIPath(op.Path)
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		item[strings.ToLower(op.Method)] = sg.operation(op)
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "InstaInstru hub API",
			"version": "1.0.0",
			"description": "REST API of the InstaInstru live marketplace hub. Errors always have the shape " +
				"{\"error\":{\"code\",\"message\",\"details\",\"request_id\"}}.",
		},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": sg.defs,
			"securitySchemes": map[string]any{
				"bearer":     map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
				"monitoring": map[string]any{"type": "apiKey", "in": "header", "name": "X-Monitoring-API-Key"},
			},
		},
	}
}

func (sg *schemaGen) operation(op apiOp) map[string]any {
	o := map[string]any{"summary": op.Summary, "operationId": operationID(op), "tags": []string{op.Tag}}
	var params []any
	for _, m := range fiberParam.FindAllStringSubmatch(op.Path, -1) {
		schema := map[string]any{"type": "string", "format": "uuid"}
		if op.PathSchema != nil {
			schema = op.PathSchema
		}
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema})
	}
	for _, p := range op.Query {
		params = append(params, map[string]any{"name": p.Name, "in": "query", "required": p.Required,
			"description": p.Description, "schema": p.Schema})
	}
	for _, p := range op.Headers {
		params = append(params, map[string]any{"name": p.Name, "in": "header", "required": p.Required,
			"description": p.Description, "schema": p.Schema})
	}
	if params != nil {
		o["parameters"] = params
	}
	if op.Request != nil {
		content := map[string]any{}
		for _, t := range op.RequestTypes {
			content[t] = map[string]any{"schema": sg.schema(op.Request)}
		}
		if len(content) == 0 {
			content["application/json"] = map[string]any{"schema": sg.schema(op.Request)}
		}
		o["requestBody"] = map[string]any{"required": true, "content": content}
	}
	responses := map[string]any{}
	ok := map[string]any{"description": http200Text(op.Status)}
	if op.Response != nil {
		mediaType := "application/json"
		if op.ResponseType != "" {
			mediaType = op.ResponseType
		}
		ok["content"] = map[string]any{mediaType: map[string]any{"schema": sg.schema(op.Response)}}
	}
	responses[strconv.Itoa(op.Status)] = ok
	errResp := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{
			"application/json": map[string]any{"schema": ref("Error")}}}
	}
	switch op.Auth {
	case authPublic, authTicket:
	case authBearer:
		o["security"] = []any{map[string]any{"bearer": []string{}}}
		responses["401"] = errResp("missing, expired or invalid access token")
	case authMonitoring:
		o["security"] = []any{map[string]any{"monitoring": []string{}}, map[string]any{"bearer": []string{}}}
		responses["401"] = errResp("monitoring key required")
	default:
		o["security"] = []any{map[string]any{"bearer": []string{}}}
		o["x-permission"] = op.Auth
		responses["401"] = errResp("missing, expired or invalid access token")
		responses["403"] = errResp("the user lacks permission " + op.Auth)
	}
	if op.Request != nil || len(op.Query) > 0 {
		responses["400"] = errResp("malformed request")
		responses["422"] = errResp("validation failed; details per field")
	}
	if strings.Contains(op.Path, ":") {
		responses["404"] = errResp("not found")
	}
	if op.Method == "POST" && strings.HasPrefix(op.Path, "/api/v1/auth/") {
		responses["429"] = errResp("rate limited; see Retry-After")
	}
	if strings.HasPrefix(op.Path, "/api/v1/bookings") && op.Method == "POST" {
		responses["409"] = errResp("slot_unavailable, instructor_unavailable (a new booking of an unverified instructor) or conflict")
	}
	for status, why := range op.Errors {
		responses[status] = errResp(why)
	}
	responses["500"] = errResp("internal error")
	o["responses"] = responses
	return o
}

func http200Text(status int) string {
	switch status {
	case 101:
		return "switching protocols"
	case 201:
		return "created"
	case 204:
		return "no content"
	}
	return "OK"
}

func operationID(op apiOp) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.Method))
	for _, part := range strings.FieldsFunc(op.Path, func(r rune) bool { return r == '/' || r == '-' || r == '.' }) {
		if part == "api" || part == "v1" {
			continue
		}
		part = strings.TrimPrefix(part, ":")
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func errorSchema() map[string]any {
	return object(map[string]any{"error": object(map[string]any{
		"code":       map[string]any{"type": "string", "example": market.ESLOTUNAVAIL},
		"message":    map[string]any{"type": "string"},
		"details":    map[string]any{"type": "object", "additionalProperties": true},
		"request_id": map[string]any{"type": "string"},
	}, "code", "message", "details", "request_id")}, "error")
}

func object(props map[string]any, required ...string) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func array(items any) map[string]any { return map[string]any{"type": "array", "items": items} }

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func nullableString() map[string]any { return map[string]any{"type": "string", "nullable": true} }

// schemaGen derives JSON schemas from Go types, naming each struct type
// once under components/schemas.
type schemaGen struct {
	defs map[string]any
}

func (sg *schemaGen) schema(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return sg.typeSchema(reflect.TypeOf(v))
}

var (
	timeType = reflect.TypeOf(time.Time{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

func (sg *schemaGen) typeSchema(t reflect.Type) any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := sg.typeSchema(t.Elem())
		if m, ok := s.(map[string]any); ok && m["$ref"] == nil {
			c := map[string]any{"nullable": true}
			for k, v := range m {
				c[k] = v
			}
			return c
		}
		return map[string]any{"allOf": []any{s}, "nullable": true}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return array(sg.typeSchema(t.Elem()))
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": sg.typeSchema(t.Elem())}
	case reflect.Struct:
		name := schemaName(t)
		if _, ok := sg.defs[name]; !ok {
			sg.defs[name] = map[string]any{} // placeholder breaks recursion
			sg.defs[name] = sg.structSchema(t)
		}
		return ref(name)
	}
	return map[string]any{}
}

// schemaName is the exported-looking component name of t.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if n == "" {
		return "Object"
	}
	return strings.ToUpper(n[:1]) + n[1:]
}

func (sg *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	sg.addFields(t, props, &required)
	return object(props, required...)
}

func (sg *schemaGen) addFields(t reflect.Type, props map[string]any, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if et := f.Type; f.Anonymous && name == "" && (et.Kind() == reflect.Struct || et.Kind() == reflect.Pointer && et.Elem().Kind() == reflect.Struct) {
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			sg.addFields(et, props, required)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := sg.typeSchema(f.Type)
		rules, hasRules := f.Tag.Lookup("validate")
		if m, ok := s.(map[string]any); ok && hasRules {
			s = withRules(m, f.Type, rules)
		}
		props[name] = s
		req := !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer
		if hasRules {
			req = strings.Contains(rules, "required")
		}
		if req {
			*required = append(*required, name)
		}
	}
}

// withRules adds what the validate tag says (enum, bounds) to a schema.
func withRules(m map[string]any, t reflect.Type, rules string) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	before, _, _ := strings.Cut(expandRuleAliases(rules), ",dive")
	for _, r := range strings.Split(before, ",") {
		key, val, _ := strings.Cut(r, "=")
		n, numErr := strconv.Atoi(val)
		switch {
		case key == "oneof":
			out["enum"] = strings.Fields(val)
		case key == "email":
			out["format"] = "email"
		case key == "unique":
			out["uniqueItems"] = true
		case (key == "min" || key == "max") && numErr == nil:
			switch t.Kind() {
			case reflect.String:
				out[key+"Length"] = n
			case reflect.Slice:
				out[key+"Items"] = n
			default:
				out[map[string]string{"min": "minimum", "max": "maximum"}[key]] = n
			}
		}
	}
	return out
}
