package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// runHealthcheck exits 0 when URL answers 2xx within three seconds: the
// container image's HEALTHCHECK, since a scratch image has no curl.
func runHealthcheck(ctx context.Context, e *env, args []string) int {
	fs := newFlagSet(e, "healthcheck", "URL")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after `duration`")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		errorf(e, "healthcheck takes one URL, such as http://127.0.0.1:8025/readyz")
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fs.Arg(0), nil)
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		errorf(e, "%s answered %s", fs.Arg(0), resp.Status)
		return exitFailure
	}
	fmt.Fprintf(e.stdout, "imapfault: %s: %s\n", fs.Arg(0), resp.Status)
	return exitOK
}
