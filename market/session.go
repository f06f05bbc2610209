package market

// Session error codes (SPEC §4.3: the refresh cookie).
const (
	// ENOSESSION (401): POST /auth/refresh or /auth/logout carried neither
	// a refresh token in the body nor the refresh cookie.
	ENOSESSION = "no_session"
	// EFETCHHEADER (403): the refresh cookie was presented without the
	// header X-Requested-With: fetch, which a cross-site form cannot send.
	EFETCHHEADER = "fetch_header_required"
)
