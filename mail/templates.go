package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	texttemplate "text/template"
)

// Each email is templates/<name>.txt (defines "subject" and "text") and
// templates/<name>.html (defines "html"), rendered with the shared
// layout.txt / layout.html. Add a pair of files to add an email.
//
//go:embed templates/*
var templateFS embed.FS

// Templates renders emails by name.
type Templates struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

// Rendered is a rendered email.
type Rendered struct {
	Subject, Text, HTML string
}

// LoadTemplates parses every embedded template; an error is a broken
// template file (a build-time bug).
func LoadTemplates() (*Templates, error) {
	t := &Templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.txt")
	if err != nil {
		return nil, err
	}
	for _, p := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".txt")
		if name == "layout" {
			continue
		}
		tt, err := texttemplate.ParseFS(templateFS, "templates/layout.txt", p)
		if err != nil {
			return nil, fmt.Errorf("template %s.txt: %w", name, err)
		}
		ht, err := htmltemplate.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("template %s.html: %w", name, err)
		}
		t.text[name], t.html[name] = tt, ht
	}
	return t, nil
}

// Has reports whether a template called name exists.
func (t *Templates) Has(name string) bool { return t.text[name] != nil }

// Render renders template name with data.
func (t *Templates) Render(name string, data map[string]any) (Rendered, error) {
	tt, ht := t.text[name], t.html[name]
	if tt == nil {
		return Rendered{}, fmt.Errorf("no email template %q", name)
	}
	var subj, text, html bytes.Buffer
	if err := tt.ExecuteTemplate(&subj, "subject", data); err != nil {
		return Rendered{}, fmt.Errorf("render %s subject: %w", name, err)
	}
	if err := tt.ExecuteTemplate(&text, "layout", data); err != nil {
		return Rendered{}, fmt.Errorf("render %s text: %w", name, err)
	}
	if err := ht.ExecuteTemplate(&html, "layout", data); err != nil {
		return Rendered{}, fmt.Errorf("render %s html: %w", name, err)
	}
	return Rendered{Subject: strings.TrimSpace(subj.String()), Text: text.String(), HTML: html.String()}, nil
}
