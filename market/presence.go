package market

import "strings"

// Presence (SPEC §4.3) counts the distinct viewers of an instructor's week:
// the connections subscribed to availability:<instructor id>, where every
// signed-in user counts once however many tabs, devices or nodes they watch
// from, each anonymous connection counts once (it has nothing else to be
// told apart by), and the instructor never counts as a viewer of their own
// week.

// PresenceViewer is who a connection counts as among topic's viewers:
// "u:<user id>" or "c:<connection id>" for an anonymous one. counted is
// false for topics without presence (anything but availability:<id>) and
// for the instructor watching their own week.
func PresenceViewer(topic, userID, connID string) (viewer string, counted bool) {
	instructor, ok := strings.CutPrefix(topic, "availability:")
	if !ok || instructor == "" {
		return "", false
	}
	switch {
	case userID == instructor:
		return "", false
	case userID != "":
		return "u:" + userID, true
	case connID != "":
		return "c:" + connID, true
	}
	return "", false
}

// PresenceShown says whether a page shows "N people are looking at this
// week": only from two on (the one looking is one of them).
func PresenceShown(watching int) bool { return watching >= 2 }
