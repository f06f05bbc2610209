package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"instainstru/market"
)

// newValidator builds the one validator the server uses. Field names in its
// errors are the JSON names, so 422 details are keyed the way clients send.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	for alias, rules := range ruleAliases() {
		v.RegisterAlias(alias, rules)
	}
	return v
}

// ruleAliases are the validate rules whose numbers are market's limits.
// A struct tag cannot name a constant, so tags name these aliases; the
// validator expands them, and so does the OpenAPI schema (withRules), so a
// limit changes in one place (market/limits.go).
func ruleAliases() map[string]string {
	return map[string]string{
		"note_len":     fmt.Sprintf("max=%d", market.MaxNoteLen),
		"area_len":     fmt.Sprintf("max=%d", market.MaxAreaLen),
		"areas_count":  fmt.Sprintf("max=%d", market.MaxAreas),
		"bio_len":      fmt.Sprintf("max=%d", market.MaxBioLen),
		"years_exp":    fmt.Sprintf("min=0,max=%d", market.MaxYearsExperience),
		"tz_len":       fmt.Sprintf("max=%d", market.MaxTimezoneLen),
		"notice_hours": fmt.Sprintf("min=0,max=%d", market.MaxCancellationNoticeHours),
		"email_len":    fmt.Sprintf("max=%d", market.MaxEmailLen),
		"name_len":     fmt.Sprintf("max=%d", market.MaxFullNameLen),
	}
}

// expandRuleAliases replaces each alias in a validate tag by its rules.
func expandRuleAliases(rules string) string {
	aliases := ruleAliases()
	parts := strings.Split(rules, ",")
	for i, r := range parts {
		if x, ok := aliases[r]; ok {
			parts[i] = x
		}
	}
	return strings.Join(parts, ",")
}

// bind decodes the JSON body into dst strictly and validates it.
//
//   - Content-Type must be JSON (415 otherwise); an empty body is 400.
//   - Unknown fields, wrong types, syntax errors and trailing data are 400
//     malformed_request, with the offending field in details when known.
//   - Strings may not contain NUL (Postgres cannot store it): 422.
//   - `validate` tags are checked: 422 validation_failed with per-field
//     details keyed by JSON path ("days[0].windows[1].start").
func (s *Server) bind(c *fiber.Ctx, dst any) error {
	if err := s.decodeOnly(c, dst); err != nil {
		return err
	}
	return s.validate(dst)
}

// decodeOnly is bind without the validation step, for handlers that
// normalise fields (trim, lowercase) before validating.
func (s *Server) decodeOnly(c *fiber.Ctx, dst any) error {
	if err := requireJSON(c); err != nil {
		return err
	}
	body := rawBody(c)
	if len(bytes.TrimSpace(body)) == 0 {
		return &market.Error{Code: market.EMALFORMED, Message: "request body is required"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &market.Error{Code: market.EMALFORMED, Message: "request body has data after the JSON value"}
	}
	if field := findNUL(reflect.ValueOf(dst), ""); field != "" {
		return market.ValidationError(map[string]string{field: "must not contain NUL characters"})
	}
	return nil
}

// validate runs the validator on v and converts its errors to a 422.
func (s *Server) validate(v any) error {
	err := s.rest.validate.Struct(v)
	if err == nil {
		return nil
	}
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		return fmt.Errorf("validate: %w", err)
	}
	fields := make(map[string]string, len(ves))
	for _, fe := range ves {
		name := fe.Namespace()
		if _, rest, ok := strings.Cut(name, "."); ok { // drop the top struct's name
			name = rest
		}
		if _, dup := fields[name]; !dup {
			fields[name] = validationMessage(fe)
		}
	}
	return market.ValidationError(fields)
}

func validationMessage(fe validator.FieldError) string {
	isString := fe.Kind() == reflect.String
	switch fe.ActualTag() { // an alias (ruleAliases) reports the rule that failed
	case "required", "required_without", "required_with":
		return "is required"
	case "email":
		return "must be a valid email address"
	case "uuid", "uuid4":
		return "must be a UUID"
	case "oneof":
		return "must be one of: " + strings.ReplaceAll(fe.Param(), " ", ", ")
	case "min", "gte":
		if isString {
			return "must be at least " + fe.Param() + " characters"
		}
		if fe.Kind() == reflect.Slice || fe.Kind() == reflect.Map {
			return "must have at least " + fe.Param() + " items"
		}
		return "must be at least " + fe.Param()
	case "max", "lte":
		if isString {
			return "must be at most " + fe.Param() + " characters"
		}
		if fe.Kind() == reflect.Slice || fe.Kind() == reflect.Map {
			return "must have at most " + fe.Param() + " items"
		}
		return "must be at most " + fe.Param()
	case "len":
		return "must have length " + fe.Param()
	case "unique":
		return "must not contain duplicates"
	case "datetime":
		return "must match " + fe.Param()
	}
	return "is invalid (" + fe.Tag() + ")"
}

// requireJSON accepts application/json and any +json media type.
func requireJSON(c *fiber.Ctx) error {
	ct := c.Get(fiber.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == fiber.MIMEApplicationJSON || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return &market.Error{Code: codeUnsupportedMedia, Message: "Content-Type must be application/json"}
}

// decodeError maps encoding/json's errors to a 400 that names the field.
func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return &market.Error{Code: market.EMALFORMED, Message: "wrong type for field " + field,
			Details: map[string]any{field: "must be " + jsonTypeName(typeErr.Type)}}
	case errors.As(err, &syntaxErr):
		return &market.Error{Code: market.EMALFORMED, Message: "request body is not valid JSON",
			Details: map[string]any{"offset": syntaxErr.Offset}}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &market.Error{Code: market.EMALFORMED, Message: "request body is truncated JSON"}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return &market.Error{Code: market.EMALFORMED, Message: "unknown field " + name,
			Details: map[string]any{name: "unknown field"}}
	}
	return &market.Error{Code: market.EMALFORMED, Message: "request body is not valid JSON"}
}

func jsonTypeName(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonTypeName(t.Elem())
	}
	return "another type"
}

// findNUL returns the JSON path of the first string in v that contains a NUL
// byte or invalid UTF-8 (both rejected by Postgres), or "".
func findNUL(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		return findNUL(v.Elem(), path)
	case reflect.String:
		if !validText(v.String()) {
			if path == "" {
				return "body"
			}
			return path
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if p := findNUL(v.Field(i), joinPath(path, name)); p != "" {
				return p
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if p := findNUL(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if p := findNUL(iter.Value(), joinPath(path, fmt.Sprint(iter.Key()))); p != "" {
				return p
			}
		}
	}
	return ""
}

func joinPath(base, name string) string {
	if base == "" {
		return name
	}
	return base + "." + name
}

// validText reports whether s can be stored in a Postgres text column.
func validText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// parseUUIDParam returns route parameter name as a canonical UUID. Anything
// that is not a UUID cannot name a resource, so it is a 404 — and it never
// reaches SQL, where it would fail as an internal error.
func parseUUIDParam(c *fiber.Ctx, name string) (string, error) {
	raw := c.Params(name)
	if len(raw) != 36 {
		return "", &market.Error{Code: market.ENOTFOUND, Message: "not found"}
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return "", &market.Error{Code: market.ENOTFOUND, Message: "not found"}
	}
	return id.String(), nil
}

// queryText returns query parameter name, trimmed, refusing values Postgres
// cannot store or that exceed max bytes (422, never a 500 from SQL).
func queryText(c *fiber.Ctx, name string, max int) (string, error) {
	v := strings.TrimSpace(c.Query(name))
	if !validText(v) {
		return "", market.ValidationError(map[string]string{name: "must be valid UTF-8 text without NUL"})
	}
	if len(v) > max {
		return "", market.ValidationError(map[string]string{name: fmt.Sprintf("must be at most %d bytes", max)})
	}
	return v, nil
}

// queryUUID returns an optional UUID query parameter ("" when absent).
func queryUUID(c *fiber.Ctx, name string) (string, error) {
	v := c.Query(name)
	if v == "" {
		return "", nil
	}
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		return "", market.ValidationError(map[string]string{name: "must be a UUID"})
	}
	return id.String(), nil
}

// Page sizes of every cursor-paginated list.
const (
	defaultPageLimit = 20
	maxPageLimit     = 100
)

// queryLimit returns the `limit` query parameter: 1..100, default 20.
func queryLimit(c *fiber.Ctx) (int, error) {
	raw := c.Query("limit")
	if raw == "" {
		return defaultPageLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxPageLimit {
		return 0, market.ValidationError(map[string]string{"limit": fmt.Sprintf("must be an integer from 1 to %d", maxPageLimit)})
	}
	return n, nil
}

// parseUUID returns s as a canonical UUID; only the 36-character form is
// accepted.
func parseUUID(s string) (string, error) {
	if len(s) != 36 {
		return "", fmt.Errorf("not a UUID: %q", s)
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return "", err
	}
	return id.String(), nil
}
