package ui

import (
	"context"
	"testing"

	"steelinspect/audit"
)

// TestDemoStripsHiddenWithUsers: a station with named users (production)
// offers no demo strips, which would be recorded in its trail; one
// without keeps them.
func TestDemoStripsHiddenWithUsers(t *testing.T) {
	store := openStore(t)
	if err := store.AddUser(context.Background(), "test", "ada", audit.RoleAdmin, "secret-ada"); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, Options{Station: onTrail(store)})
	h.waitIdle()
	if h.ins.w.demoBtn.Visible() {
		t.Error("Demo strips button shown on a station with users")
	}
	for _, m := range h.ins.Window().MainMenu().Items {
		if m.Label == "Demo" || m.Label == "Demo strips" {
			t.Errorf("demo menu %q on a station with users", m.Label)
		}
	}
	free := newHarness(t, Options{Station: onTrail(openStore(t))})
	free.waitIdle()
	if !free.ins.w.demoBtn.Visible() {
		t.Error("Demo strips hidden on a station without users")
	}
}
