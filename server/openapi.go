package server

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// openAPISpec describes the API as this package serves it; a test checks
// that its paths and methods are exactly the route table's.
//
//go:embed openapi.json
var openAPISpec []byte

// openAPIDocument is the embedded document with this server's facts filled
// in: the application version, and bearer authentication only when the
// server was given a token. Keys keep a readable order (openapi, info,
// servers, security, paths, components).
func (s *Server) openAPIDocument() ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(openAPISpec, &doc); err != nil {
		return nil, fmt.Errorf("embedded OpenAPI document: %w", err)
	}
	var info map[string]json.RawMessage
	if err := json.Unmarshal(doc["info"], &info); err != nil {
		return nil, fmt.Errorf("embedded OpenAPI document: info: %w", err)
	}
	if s.cfg.Version != "" {
		v, _ := json.Marshal(s.cfg.Version)
		info["version"] = v
	}
	doc["info"] = orderedObject(info, "title", "version", "description")
	if len(s.tokens) > 0 {
		doc["security"] = json.RawMessage(`[{"bearerAuth": []}]`)
	}
	compact := orderedObject(doc, "openapi", "info", "servers", "security", "paths", "components")
	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("OpenAPI document: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// orderedObject writes m as a JSON object with the keys in order first and
// any others after them, sorted.
func orderedObject(m map[string]json.RawMessage, order ...string) json.RawMessage {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !slices.Contains(order, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for _, k := range append(order, keys...) {
		v, ok := m[k]
		if !ok {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(k)
		b.Write(name)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}
