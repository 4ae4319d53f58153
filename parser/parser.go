// Package parser turns the text of an SMS sent to 1708 into a command:
// a complaint (the default), a status query, a follow-up, help or an
// opt-out. It is pure: no I/O, no globals, no logging.
package parser
