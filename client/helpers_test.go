package client

import (
	"encoding/base64"
	"log/slog"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
