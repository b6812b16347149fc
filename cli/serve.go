package cli

import "errors"

// runServe is replaced by the HTTP API (issue 6).
func runServe(args []string, env Env) error {
	return errors.New("the HTTP API is not built yet")
}
