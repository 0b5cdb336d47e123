package main

import (
	"encoding/json"
	"io"
	"os"

	"github.com/imapfault/imapfault/client"
	"github.com/imapfault/imapfault/replay"
)

// scenariosFromReport writes, on stdout, a scenario that replays what the
// server of a check --json report did ("-" reads the report from stdin).
func scenariosFromReport(e *env, path string) int {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(e.stdin)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		errorf(e, "%v", err)
		return exitUsage
	}
	var r client.Report
	if err := json.Unmarshal(data, &r); err != nil {
		errorf(e, "%s: not a report: %v", path, err)
		hintf(e, "write one with: imapfault check --json HOST:PORT > report.json")
		return exitUsage
	}
	src, err := replay.FromReport(&r)
	if err != nil {
		errorf(e, "%s: %v", path, err)
		return exitUsage
	}
	if _, err := e.stdout.Write(src); err != nil {
		errorf(e, "%v", err)
		return exitFailure
	}
	return exitOK
}
