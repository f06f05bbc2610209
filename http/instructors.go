package http

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"instainstru/market"
)

// instructorRoutes: public browsing and the instructor's self-service.
// "/instructors/me…" is registered before "/instructors/:id" so "me" never
// reaches the id handler.
func (s *Server) instructorRoutes(r fiber.Router) {
	r.Get("/instructors", s.listInstructors)
	s.handle(r, "GET", "/instructors/me", market.PermProfileRead, s.myProfile)
	s.handle(r, "PUT", "/instructors/me", market.PermProfileManage, s.updateMyProfile)
	s.handle(r, "POST", "/instructors/me/services", market.PermServicesManage, s.addMyService)
	s.handle(r, "PATCH", "/instructors/me/services/:id", market.PermServicesManage, s.updateMyService)
	s.handle(r, "DELETE", "/instructors/me/services/:id", market.PermServicesManage, s.deleteMyService)
	r.Get("/instructors/:id", s.getInstructor)
}

// offeredServiceView is an offered service as the public sees it (SPEC §4.1).
type offeredServiceView struct {
	ID              string `json:"id"`
	ServiceID       string `json:"service_id"`
	Name            string `json:"name"`
	HourlyRateCents int    `json:"hourly_rate_cents"`
	Durations       []int  `json:"durations"`
	Main            bool   `json:"main"` // the instructor's main service (market.InstructorService.Main)
}

func publicServices(in []market.InstructorService) []offeredServiceView {
	out := make([]offeredServiceView, 0, len(in))
	for _, s := range in {
		if !s.Active {
			continue
		}
		out = append(out, offeredServiceView{ID: s.ID, ServiceID: s.ServiceID, Name: s.Name,
			HourlyRateCents: s.HourlyRateCents, Durations: s.Durations, Main: s.Main})
	}
	return out
}

// instructorSummary is one item of GET /instructors (SPEC §4.1).
type instructorSummary struct {
	ID       string               `json:"id"`
	FullName string               `json:"full_name"`
	Bio      string               `json:"bio"`
	Areas    []string             `json:"areas"`
	Services []offeredServiceView `json:"services"`
	PhotoURL *string              `json:"photo_url"` // photos.go; null without a photo
	Online   bool                 `json:"online"`    // a live connection on any node (presence.go)
}

type instructorList struct {
	Items      []instructorSummary `json:"items"`
	NextCursor *string             `json:"next_cursor"`
}

// instructorDetail is GET /instructors/{id} (SPEC §4.1).
type instructorDetail struct {
	ID       string               `json:"id"`
	FullName string               `json:"full_name"`
	Bio      string               `json:"bio"`
	Timezone string               `json:"timezone"`
	Areas    []string             `json:"areas"`
	Services []offeredServiceView `json:"services"`
	PhotoURL *string              `json:"photo_url"`

	// Shown to students before they book: cancelling closer than this to
	// the start is a late cancellation.
	CancellationNoticeHours int `json:"cancellation_notice_hours"`

	Online bool `json:"online"` // a live connection on any node (presence.go)
}

// ownProfile is the instructor's own view: every field they can edit and
// every offer, removed ones included (is_active=false).
type ownProfile struct {
	ID              string                     `json:"id"`
	FullName        string                     `json:"full_name"`
	Bio             string                     `json:"bio"`
	YearsExperience int                        `json:"years_experience"`
	Timezone        string                     `json:"timezone"`
	Areas           []string                   `json:"areas"`
	Services        []market.InstructorService `json:"services"`
	PhotoURL        *string                    `json:"photo_url"`

	CancellationNoticeHours int `json:"cancellation_notice_hours"`
}

func newOwnProfile(in *market.Instructor, photoURL *string) ownProfile {
	return ownProfile{ID: in.ID, FullName: in.FullName, Bio: in.Bio, YearsExperience: in.YearsExperience,
		Timezone: in.Timezone, Areas: in.Areas, Services: in.Services, CancellationNoticeHours: in.CancellationNoticeHours,
		PhotoURL: photoURL}
}

// instructorCursor is the opaque cursor's content.
type instructorCursor struct {
	Name string `json:"n"`
	ID   string `json:"i"`
}

func encodeInstructorCursor(in market.Instructor) string {
	b, _ := json.Marshal(instructorCursor{Name: in.FullName, ID: in.ID}) //nolint:errcheck // plain struct
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeInstructorCursor(raw string) (*market.InstructorCursor, error) {
	bad := market.ValidationError(map[string]string{"cursor": "is not a cursor this server issued"})
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, bad
	}
	var cur instructorCursor
	if err := json.Unmarshal(b, &cur); err != nil || !validText(cur.Name) {
		return nil, bad
	}
	if _, err := parseUUID(cur.ID); err != nil {
		return nil, bad
	}
	return &market.InstructorCursor{FullName: cur.Name, ID: cur.ID}, nil
}

func (s *Server) listInstructors(c *fiber.Ctx) error {
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	serviceID, err := queryUUID(c, "service_id")
	if err != nil {
		return err
	}
	q, err := queryText(c, "q", 100)
	if err != nil {
		return err
	}
	page := market.InstructorPage{ServiceID: serviceID, Query: q, Limit: limit}
	if raw := c.Query("cursor"); raw != "" {
		if page.After, err = decodeInstructorCursor(raw); err != nil {
			return err
		}
	}
	list, more, err := s.deps.DB.ListInstructors(c.UserContext(), page)
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(list))
	for _, in := range list {
		ids = append(ids, in.ID)
	}
	photos, err := s.photoURLs(c.UserContext(), ids...)
	if err != nil {
		return err
	}
	resp := instructorList{Items: make([]instructorSummary, 0, len(list))}
	online := s.online(c.UserContext(), ids...)
	for _, in := range list {
		resp.Items = append(resp.Items, instructorSummary{ID: in.ID, FullName: in.FullName, Bio: in.Bio,
			Areas: in.Areas, Services: publicServices(in.Services), PhotoURL: photos[in.ID], Online: online[in.ID]})
	}
	if more && len(list) > 0 {
		next := encodeInstructorCursor(list[len(list)-1])
		resp.NextCursor = &next
	}
	return c.JSON(resp)
}

func (s *Server) getInstructor(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	// An instructor whose email is not verified is 404 to others but sees
	// their own public page (the page reads it for the timezone).
	in, err := s.deps.DB.InstructorByID(c.UserContext(), id, s.isCaller(c, id))
	if err != nil {
		return err
	}
	photo, err := s.photoURL(c.UserContext(), in.ID)
	if err != nil {
		return err
	}
	s.recordView(c, in.ID)
	return c.JSON(instructorDetail{ID: in.ID, FullName: in.FullName, Bio: in.Bio, Timezone: in.Timezone,
		Areas: in.Areas, Services: publicServices(in.Services), CancellationNoticeHours: in.CancellationNoticeHours,
		PhotoURL: photo, Online: s.online(c.UserContext(), in.ID)[in.ID]})
}

// isCaller reports whether the request carries a valid access token of the
// user id (on a public route, where no authentication ran).
func (s *Server) isCaller(c *fiber.Ctx, id string) bool {
	raw, ok := bearerToken(c.Get(fiber.HeaderAuthorization))
	if !ok {
		return false
	}
	u, _, err := s.VerifyAccessToken(c.UserContext(), raw)
	return err == nil && u.ID == id
}

func (s *Server) myProfile(c *fiber.Ctx) error {
	in, err := s.deps.DB.InstructorByID(c.UserContext(), currentUser(c).ID, true)
	if err != nil {
		return err
	}
	photo, err := s.photoURL(c.UserContext(), in.ID)
	if err != nil {
		return err
	}
	return c.JSON(newOwnProfile(in, photo))
}

type profileRequest struct {
	Bio             string   `json:"bio" validate:"bio_len"`
	YearsExperience int      `json:"years_experience" validate:"years_exp"`
	Areas           []string `json:"areas" validate:"areas_count,dive,required,area_len"`
	Timezone        string   `json:"timezone" validate:"tz_len"`

	// Absent = the default (PUT replaces the profile).
	CancellationNoticeHours *int `json:"cancellation_notice_hours" validate:"omitnil,notice_hours"`
}

// updateMyProfile replaces the profile (PUT: absent fields take their
// defaults; timezone defaults to America/New_York).
func (s *Server) updateMyProfile(c *fiber.Ctx) error {
	var req profileRequest
	if err := s.decodeOnly(c, &req); err != nil {
		return err
	}
	req.Bio = strings.TrimSpace(req.Bio)
	req.Timezone = strings.TrimSpace(req.Timezone)
	if req.Timezone == "" {
		req.Timezone = market.DefaultTimezone
	}
	areas := make([]string, 0, len(req.Areas))
	for _, a := range req.Areas {
		a = strings.TrimSpace(a)
		if !slices.Contains(areas, a) {
			areas = append(areas, a)
		}
	}
	req.Areas = areas
	fields := map[string]string{}
	if err := s.validate(&req); err != nil {
		if !mergeValidation(fields, err) {
			return err
		}
	}
	if _, bad := fields["bio"]; !bad && utf8.RuneCountInString(req.Bio) > 2000 {
		fields["bio"] = "must be at most 2000 characters"
	}
	if _, bad := fields["timezone"]; !bad {
		if err := validTimezone(req.Timezone); err != nil {
			fields["timezone"] = err.Error()
		}
	}
	if len(fields) > 0 {
		return market.ValidationError(fields)
	}
	notice := market.DefaultCancellationNoticeHours
	if req.CancellationNoticeHours != nil {
		notice = *req.CancellationNoticeHours
	}
	in, err := s.deps.DB.UpdateInstructorProfile(c.UserContext(), currentUser(c).ID, market.ProfileUpdate{
		Bio: req.Bio, YearsExperience: req.YearsExperience, Areas: req.Areas, Timezone: req.Timezone,
		CancellationNoticeHours: notice,
	})
	if err != nil {
		return err
	}
	photo, err := s.photoURL(c.UserContext(), in.ID)
	if err != nil {
		return err
	}
	return c.JSON(newOwnProfile(in, photo))
}

// validTimezone accepts IANA zone names only ("Local" and "" are refused:
// they mean the server's zone, which is not the instructor's).
func validTimezone(tz string) error {
	if tz == "" || tz == "Local" {
		return fmt.Errorf("must be an IANA time zone such as %s", market.DefaultTimezone)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil || loc.String() != tz {
		return fmt.Errorf("must be an IANA time zone such as %s", market.DefaultTimezone)
	}
	return nil
}

// mergeValidation copies the field details of a 422 into fields; false if
// err is not a validation error.
func mergeValidation(fields map[string]string, err error) bool {
	var me *market.Error
	if !errors.As(err, &me) || me.Code != market.EVALIDATION {
		return false
	}
	for k, v := range me.Details {
		fields[k] = fmt.Sprint(v)
	}
	return true
}

func checkDurations(fields map[string]string, durations []int) {
	for i, d := range durations {
		if !market.ValidDuration(d) {
			fields[fmt.Sprintf("durations[%d]", i)] = market.DurationRule()
		}
	}
}

type addServiceRequest struct {
	ServiceID       string `json:"service_id" validate:"required"`
	HourlyRateCents int    `json:"hourly_rate_cents" validate:"min=100,max=10000000"`
	Durations       []int  `json:"durations" validate:"required,min=1,max=8,unique"`
}

func (s *Server) addMyService(c *fiber.Ctx) error {
	var req addServiceRequest
	if err := s.decodeOnly(c, &req); err != nil {
		return err
	}
	fields := map[string]string{}
	if err := s.validate(&req); err != nil && !mergeValidation(fields, err) {
		return err
	}
	checkDurations(fields, req.Durations)
	id, err := parseUUID(req.ServiceID)
	if _, bad := fields["service_id"]; !bad && err != nil {
		fields["service_id"] = "must be a UUID"
	}
	if len(fields) > 0 {
		return market.ValidationError(fields)
	}
	slices.Sort(req.Durations)
	svc, err := s.deps.DB.AddInstructorService(c.UserContext(), currentUser(c).ID, market.NewInstructorService{
		ServiceID: id, HourlyRateCents: req.HourlyRateCents, Durations: req.Durations,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(svc)
}

type updateServiceRequest struct {
	HourlyRateCents *int  `json:"hourly_rate_cents" validate:"omitnil,min=100,max=10000000"`
	Durations       []int `json:"durations" validate:"omitnil,min=1,max=8,unique"`
}

func (s *Server) updateMyService(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	var req updateServiceRequest
	if err := s.decodeOnly(c, &req); err != nil {
		return err
	}
	fields := map[string]string{}
	if err := s.validate(&req); err != nil && !mergeValidation(fields, err) {
		return err
	}
	checkDurations(fields, req.Durations)
	if req.HourlyRateCents == nil && req.Durations == nil && len(fields) == 0 {
		fields["body"] = "set hourly_rate_cents or durations"
	}
	if len(fields) > 0 {
		return market.ValidationError(fields)
	}
	slices.Sort(req.Durations)
	svc, err := s.deps.DB.UpdateInstructorService(c.UserContext(), currentUser(c).ID, id, market.InstructorServiceChange{
		HourlyRateCents: req.HourlyRateCents, Durations: req.Durations,
	})
	if err != nil {
		return err
	}
	return c.JSON(svc)
}

func (s *Server) deleteMyService(c *fiber.Ctx) error {
	id, err := parseUUIDParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.deps.DB.DeactivateInstructorService(c.UserContext(), currentUser(c).ID, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
