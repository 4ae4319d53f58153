package main

import (
	"context"
	"fmt"
	"io"
)

func runCmd(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "chaos run: not built yet; use chaos check")
	return exitUsage
}
