package main

import (
	"os"
	"time"

	"instainstru/store"
)

// retentionConfig reads the retention periods (docs/configuration.md: Retention). Each is
// a Go duration ("168h"); "off" disables that kind. Unset = the default in
// store.RetentionConfig.
func retentionConfig(errs *[]error) store.RetentionConfig {
	period := func(k string) time.Duration {
		if os.Getenv(k) == "off" {
			return -1
		}
		return durationEnv(k, 0, errs)
	}
	c := store.RetentionConfig{
		Interval: durationEnv("RETENTION_INTERVAL", 0, errs),
		Batch:    intEnv("RETENTION_BATCH", 1000, errs),
	}
	c.RefreshTokens = period("RETENTION_REFRESH_TOKENS")
	c.Audit = period("RETENTION_AUDIT")
	c.LessonNotes = period("RETENTION_LESSON_NOTES")
	c.ReadNotifications = period("RETENTION_READ_NOTIFICATIONS")
	c.Emails = period("RETENTION_EMAILS")
	c.Messages = period("RETENTION_MESSAGES")
	c.SearchLog = period("RETENTION_SEARCH_LOG")
	c.PageViews = period("RETENTION_PAGE_VIEWS")
	return c
}
