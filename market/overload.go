package market

import "errors"

// ErrOverloaded marks a write refused by admission control. The error also
// carries an *Error (service_unavailable) for the client.
var ErrOverloaded = errors.New("overloaded")
