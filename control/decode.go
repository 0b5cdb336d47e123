package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/imapfault/imapfault/scenarios"
	"github.com/imapfault/imapfault/server"
)

// httpError is an error with the status it is answered with.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// status maps an error to the answer's status: a request the server
// refused is the client's to fix (4xx); nothing here is the server's
// fault but a failure to write the answer.
func status(err error) int {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, server.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, server.ErrExists):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

func errorMessage(err error) string {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Sprintf("request body over %d bytes: send less (a scenario, fault or message up to 1 MiB)", mbe.Limit)
	}
	var list scenarios.ErrorList
	if errors.As(err, &list) {
		return strings.Join(strings.Split(list.Error(), "\n"), "; ")
	}
	return err.Error()
}

// readBody reads the whole body, within MaxBody.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// decodeJSON decodes a body holding one JSON object into v, refusing
// fields v does not have, and says in its error which field is wrong.
func decodeJSON(r *http.Request, v any) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeJSONBytes(data, v)
}

func decodeJSONBytes(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return badRequest("empty body: send a JSON object with the fields %s", fieldNames(v))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return badRequest("body is not JSON: %v (at byte %d)", syn, syn.Offset)
		case errors.As(err, &typ) && typ.Field != "":
			return badRequest("field %q: want a %s, got a JSON %s", typ.Field, typ.Type, typ.Value)
		case errors.As(err, &typ):
			return badRequest("body: want a JSON object with the fields %s, got a JSON %s", fieldNames(v), typ.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return badRequest("%s (allowed: %s)", strings.TrimPrefix(err.Error(), "json: "), fieldNames(v))
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badRequest("body is not JSON: it ends too soon")
		}
		return badRequest("body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("body: one JSON object expected, found more after it")
	}
	return nil
}

// fieldNames lists a struct's JSON fields, for error messages.
func fieldNames(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return ""
	}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}
