package main

import (
	"math"
	"strings"
)

// knownSecrets are JWT secrets published in this repository (compose files,
// docs, tests). A production node that uses one signs tokens anyone can forge.
var knownSecrets = []string{
	"local-stack-jwt-secret-change-me-0123456789abcdef",
	"test-secret-0123456789abcdef0123456789",
	"deploy-test-secret-0123456789abcdef",
	"ops-test-secret-ops-test-secret-0123",
	"loadtest-smoke-secret-0123456789abcdef",
	"another-secret-of-some-length-here!!",
}

// Thresholds for a production JWT secret, on the Shannon entropy of its
// characters (an estimate that can only spot the obviously weak). 32 random
// hex characters score about 3.3-3.7 bits each (≈ 110 bits in all), the
// docs/configuration.md's `openssl rand -hex 32` about 3.8 × 64; repeats and short
// alphabets ("abab…", "passwordpassword…") score under 3.
const (
	minSecretBytes       = 32
	minSecretBitsPerChar = 3.0
	minSecretBits        = 96
)

// weakSecret says why s is not fit to sign production tokens, or "" if it is.
func weakSecret(s string) string {
	for _, k := range knownSecrets {
		if s == k {
			return "is a secret published in this repository"
		}
	}
	if strings.Contains(strings.ToLower(s), "change-me") || strings.Contains(strings.ToLower(s), "changeme") {
		return "still contains a change-me placeholder"
	}
	if len(s) < minSecretBytes {
		return "is shorter than 32 bytes"
	}
	h := shannonBitsPerChar(s)
	if h < minSecretBitsPerChar || h*float64(len(s)) < minSecretBits {
		return "has too little entropy (repeated or predictable characters); use `openssl rand -hex 32`"
	}
	// Random bytes never spell these; a secret that does was typed by a
	// person (or copied from a test) and is guessable.
	for _, w := range []string{"secret", "password", "test"} {
		if strings.Contains(strings.ToLower(s), w) {
			return "contains the word " + w + ": use `openssl rand -hex 32`"
		}
	}
	return ""
}

// shannonBitsPerChar is the Shannon entropy of s's byte distribution.
func shannonBitsPerChar(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	h := 0.0
	for _, n := range counts {
		if n > 0 {
			p := float64(n) / float64(len(s))
			h -= p * math.Log2(p)
		}
	}
	return h
}
