package text

import "unicode/utf8"

// Sanitize returns s as valid UTF-8 without NUL, fit for a PostgreSQL text
// column, and how many replacements were made. Each NUL and each byte that is
// not part of valid UTF-8 becomes U+FFFD — the same rule Decode follows, so
// Sanitize(s) is what encoding s and decoding it again gives. A string that
// needs no change is returned as is, without allocating.
func Sanitize(s string) (string, int) {
	clean := true
	for i := 0; i < len(s); i++ {
		if s[i] == 0 || s[i] >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean {
		return s, 0
	}
	n := 0
	for i, r := range s {
		if r == 0 || r == utf8.RuneError && isInvalidAt(s, i) {
			n++
		}
	}
	if n == 0 {
		return s, 0
	}
	buf := make([]byte, 0, len(s)+2*n)
	for i, r := range s {
		if r == 0 || r == utf8.RuneError && isInvalidAt(s, i) {
			r = utf8.RuneError
		}
		buf = utf8.AppendRune(buf, r)
	}
	return string(buf), n
}

// isInvalidAt tells a byte that range decoded as U+FFFD because it is not
// valid UTF-8 from a U+FFFD that was written in s.
func isInvalidAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size == 1
}
