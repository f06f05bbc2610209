package http

import "instainstru/market"

// verifyResetOps documents email verification and password reset.
func verifyResetOps() []apiOp {
	accepted := map[string]any{"type": "object", "properties": map[string]any{"message": map[string]any{"type": "string"}}}
	return []apiOp{
		{Method: "POST", Path: "/api/v1/auth/verify-email", Tag: "auth",
			Summary: "Verify the account's email with the token from the emailed link (single use, expires after VERIFY_TOKEN_TTL, 48 h by default); " +
				"an unknown, used, expired or reset token is 422 and changes nothing. Rate-limited per IP.",
			Request: accountTokenRequest{}, Status: 204},
		{Method: "POST", Path: "/api/v1/auth/verify-email/resend", Tag: "auth",
			Summary: "Send a new verification link (the older one stops working); 409 when already verified; rate-limited per user",
			Auth:    market.PermAccountVerify, Status: 202},
		{Method: "POST", Path: "/api/v1/auth/password-reset", Tag: "auth",
			Summary: "Ask for a password reset link: 202 with the same body and similar timing whether or not the address has an account. " +
				"Rate-limited per IP and per address.",
			Request: passwordResetRequest{}, Status: 202, Response: accepted},
		{Method: "POST", Path: "/api/v1/auth/password-reset/confirm", Tag: "auth",
			Summary: "Set a new password with the emailed token (single use, expires after RESET_TOKEN_TTL, 30 min by default). " +
				"Every session of the user ends: refresh tokens are revoked, access tokens issued before fail with 401, " +
				"open sockets on every node close with 4001. Rate-limited per IP.",
			Request: passwordResetConfirmRequest{}, Status: 204},
	}
}
