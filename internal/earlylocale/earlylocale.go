// Package earlylocale gives the process a locale Fyne can parse before
// Fyne's own initialisation reads it, so that no command prints
// "Fyne error: Error parsing user locale C" under LANG=C.UTF-8, LC_ALL=C
// or POSIX, the usual locales of services and containers.
//
// Fyne's lang package looks up the user's locales while it initialises
// (before main runs) and logs an error for the "C" language of C.UTF-8.
// Go initialises packages in import-path order, each as soon as its own
// imports are ready; this package imports only os and its path sorts
// before fyne.io, so it runs first. That is why it is a module of its own
// (replaced by this folder in the main go.mod): a path under
// steelinspect/ would sort after fyne.io.
//
// What it changes: when the locale in effect (LC_ALL, else LC_MESSAGES,
// else LANG) is C or POSIX with or without an encoding suffix, it sets
// LANGUAGE=en for the process (the list GNU gettext and Fyne consult when
// a real locale is set), unless LANGUAGE is set already. A C locale asks
// for untranslated messages, which for Fyne is English: nothing the user
// sees changes.
package earlylocale

import (
	"os"
	"strings"
)

func init() { Apply() }

// Apply sets LANGUAGE=en when the locale in effect is C or POSIX and
// LANGUAGE is unset; it reports whether it did.
func Apply() bool {
	if os.Getenv("LANGUAGE") != "" {
		return false
	}
	locale := ""
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if locale = os.Getenv(name); locale != "" {
			break
		}
	}
	lang, _, _ := strings.Cut(locale, ".")
	lang, _, _ = strings.Cut(lang, "@")
	if lang != "C" && lang != "POSIX" {
		return false
	}
	os.Setenv("LANGUAGE", "en")
	return true
}
