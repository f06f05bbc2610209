package http

import (
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// availabilityRoutes: the public availability read and the instructor's own
// window writes. The /instructors/me/availability… paths have two or more
// segments after /instructors, so the single-segment GET /instructors/:id
// never shadows them, whatever the registration order; GET
// /instructors/:id/availability with id "me" is a 404 (not a UUID).
func (s *Server) availabilityRoutes(r fiber.Router) {
	manage := market.PermAvailabilityManage
	s.handle(r, "POST", "/instructors/me/availability", manage, s.addWindow)
	s.handle(r, "PUT", "/instructors/me/availability/week", manage, s.replaceWeek)
	s.handle(r, "POST", "/instructors/me/availability/copy-week", manage, s.copyWeek)
	s.handle(r, "POST", "/instructors/me/availability/apply-pattern", manage, s.applyPattern)
	s.handle(r, "DELETE", "/instructors/me/availability/:id", manage, s.deleteWindow)
	r.Get("/instructors/:id/availability", s.getAvailability)
	if s.deps.ReadDB == nil {
		s.deps.ReadDB = s.deps.DB
	}
	s.availability = newAvailabilityCache(s.deps.ReadDB, availabilityCacheBytes)
}

// availabilityCacheBytes bounds the rendered responses a node keeps (a week
// is ~1 KiB, the longest range ~15 KiB).
const availabilityCacheBytes = 16 << 20

// availabilityResponse is the GET availability shape of SPEC §4.1: a day's
// windows carry no date of their own (the day has it).
type availabilityResponse struct {
	InstructorID string        `json:"instructor_id"`
	Timezone     string        `json:"timezone"`
	Seq          int64         `json:"seq"`
	Days         []dayResponse `json:"days"`
}

type dayResponse struct {
	Date    string            `json:"date"`
	Windows []windowResponse  `json:"windows"`
	Open    []market.Interval `json:"open"`
}

type windowResponse struct {
	ID    string `json:"id"`
	Start string `json:"start"`
	End   string `json:"end"`
}

func newAvailabilityResponse(a *market.Availability) availabilityResponse {
	out := availabilityResponse{InstructorID: a.InstructorID, Timezone: a.Timezone, Seq: a.Seq,
		Days: make([]dayResponse, 0, len(a.Days))}
	for _, d := range a.Days {
		day := dayResponse{Date: d.Date, Windows: make([]windowResponse, 0, len(d.Windows)), Open: d.Open}
		if day.Open == nil {
			day.Open = []market.Interval{}
		}
		for _, w := range d.Windows {
			day.Windows = append(day.Windows, windowResponse{ID: w.ID, Start: w.Start, End: w.End})
		}
		out.Days = append(out.Days, day)
	}
	return out
}

// getAvailability is GET /instructors/{id}/availability?from=&to= (public):
// per day windows and open intervals, and the topic seq to subscribe from.
func (s *Server) getAvailability(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	fields := map[string]string{}
	for _, q := range []string{"from", "to"} {
		if c.Query(q) == "" {
			fields[q] = "is required (YYYY-MM-DD)"
		}
	}
	if len(fields) > 0 {
		return market.ValidationError(fields)
	}
	from, to := c.Query("from"), c.Query("to")
	if _, _, err := market.ParseDateRange(from, to, "from", "to", time.Now()); err != nil {
		return err
	}
	// Served from the node's cache only when the instructor's stamp, read
	// after this request arrived, still matches (availability_cache.go).
	body, err := s.availability.get(c.UserContext(), id, from, to)
	if err != nil {
		return err
	}
	if body == nil {
		a, err := s.deps.ReadDB.Availability(c.UserContext(), id, from, to)
		if err != nil {
			return err
		}
		if body, err = json.Marshal(newAvailabilityResponse(a)); err != nil {
			return err
		}
		s.availability.put(id, from, to, market.AvailabilityStamp{Timezone: a.Timezone, Seq: a.Seq}, body)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}

type windowRequest struct {
	Date  string `json:"date" validate:"required"`
	Start string `json:"start" validate:"required"`
	End   string `json:"end" validate:"required"`
}

// addWindow is POST /instructors/me/availability → 201 the window.
func (s *Server) addWindow(c *fiber.Ctx) error {
	var req windowRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	w, err := s.deps.DB.AddWindow(c.UserContext(), currentUser(c).ID, req.Date,
		market.WindowInput{Start: req.Start, End: req.End}, nil)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(w)
}

// deleteWindow is DELETE /instructors/me/availability/{id} → 204.
func (s *Server) deleteWindow(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.deps.DB.DeleteWindow(c.UserContext(), currentUser(c).ID, id, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type intervalRequest struct {
	Start string `json:"start" validate:"required"`
	End   string `json:"end" validate:"required"`
}

type weekDayRequest struct {
	Date    string            `json:"date" validate:"required"`
	Windows []intervalRequest `json:"windows" validate:"max=96,dive"`
}

type weekRequest struct {
	WeekStart string           `json:"week_start" validate:"required"`
	Days      []weekDayRequest `json:"days" validate:"required,max=7,dive"`
}

// replaceWeek is PUT /instructors/me/availability/week: the week holds
// exactly the days of the body (absent days are cleared), all or nothing;
// 200 with the week in the GET availability shape.
func (s *Server) replaceWeek(c *fiber.Ctx) error {
	var req weekRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	days := make([]market.DayInput, 0, len(req.Days))
	for _, d := range req.Days {
		day := market.DayInput{Date: d.Date}
		for _, w := range d.Windows {
			day.Windows = append(day.Windows, market.WindowInput{Start: w.Start, End: w.End})
		}
		days = append(days, day)
	}
	a, err := s.deps.DB.ReplaceWeek(c.UserContext(), currentUser(c).ID, req.WeekStart, days, nil)
	if err != nil {
		return err
	}
	return c.JSON(newAvailabilityResponse(a))
}

type copyWeekRequest struct {
	FromWeekStart string `json:"from_week_start" validate:"required"`
	ToWeekStart   string `json:"to_week_start" validate:"required"`
}

// copyWeek is POST /instructors/me/availability/copy-week
// {"from_week_start","to_week_start"} (Mondays): the target week becomes a
// copy of the source week, weekday by weekday; 200 with the target week.
func (s *Server) copyWeek(c *fiber.Ctx) error {
	var req copyWeekRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	a, err := s.deps.DB.CopyWeek(c.UserContext(), currentUser(c).ID, req.FromWeekStart, req.ToWeekStart, nil)
	if err != nil {
		return err
	}
	return c.JSON(newAvailabilityResponse(a))
}

type applyPatternRequest struct {
	WeekStart string `json:"week_start" validate:"required"`
	From      string `json:"from" validate:"required"`
	To        string `json:"to" validate:"required"`
}

// applyPattern is POST /instructors/me/availability/apply-pattern
// {"week_start","from","to"}: every date of [from, to] (≤ 90 days) gets the
// windows of the same weekday of the week starting week_start (a Monday);
// 200 with the range.
func (s *Server) applyPattern(c *fiber.Ctx) error {
	var req applyPatternRequest
	if err := s.bind(c, &req); err != nil {
		return err
	}
	a, err := s.deps.DB.ApplyPattern(c.UserContext(), currentUser(c).ID, req.WeekStart, req.From, req.To, nil)
	if err != nil {
		return err
	}
	return c.JSON(newAvailabilityResponse(a))
}
