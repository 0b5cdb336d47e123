//go:build image

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imapfault/imapfault/internal/peer"
)

// TestImageBuild builds the container image with podman from the
// Dockerfile. Its build stage is given as the static binary built here
// (--build-context build=DIR), so that the test needs no registry and
// takes seconds; the final stage, what users run, is built as written.
// Running containers is often not permitted on CI machines: the
// entrypoint itself is tested as a plain process (TestImageEntrypoint).
func TestImageBuild(t *testing.T) {
	podman, err := exec.LookPath("podman")
	if err != nil {
		peer.Missing(t, "podman is not installed: apt-get install podman")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(filepath.Join(out, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(out, "tmp"), 0o1777)
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(out, "imapfault"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	tag := "localhost/imapfault-test:" + strings.ToLower(filepath.Base(dir))
	root := filepath.Join("..", "..")
	if b, err := exec.CommandContext(ctx, podman, "build", "--format", "docker", "--build-context", "build="+dir, "-t", tag, "-f", filepath.Join(root, "Dockerfile"), root).CombinedOutput(); err != nil {
		t.Fatalf("podman build: %v\n%s", err, b)
	}
	t.Cleanup(func() { exec.Command(podman, "rmi", "-f", tag).Run() })
	b, err := exec.CommandContext(ctx, podman, "image", "inspect", "--format", "{{.Config.User}}|{{range $p, $_ := .Config.ExposedPorts}}{{$p}} {{end}}|{{.Config.Healthcheck.Test}}", tag).CombinedOutput()
	if err != nil {
		t.Fatalf("podman image inspect: %v\n%s", err, b)
	}
	got := strings.TrimSpace(string(b))
	for _, want := range []string{"65532:65532|", "1143/tcp", "8025/tcp", "/imapfault healthcheck http://127.0.0.1:8025/readyz"} {
		if !strings.Contains(got, want) {
			t.Errorf("image config %q lacks %q", got, want)
		}
	}
}
