package market

// NotificationQuery selects a page of a user's inbox, newest first.
type NotificationQuery struct {
	UnreadOnly bool
	Limit      int    // 1..100, default 20
	Cursor     string // opaque, from the previous page
}

// NotificationPage is a page of the inbox and the user's unread count.
type NotificationPage struct {
	Items      []Notification
	Unread     int
	NextCursor string // "" on the last page
}
