package station

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"steelinspect/audit"
	"steelinspect/verdict"
)

// InForce is the pair of thresholds a station decides with, and where it
// comes from. The audit trail decides: the newest recorded pair, changed
// only by a supervisor (the window's Unlock, `steelinspect settings set`)
// and every change recorded; a trail that records none leaves the model's
// defaults in force. The preferences file, a command's flags and the
// model's manifest are never more than defaults or copies.
type InForce struct {
	verdict.Thresholds
	// Recorded says the pair comes from the trail; false: the model's
	// defaults (nothing recorded yet, or no trail).
	Recorded bool
	// By and At are who recorded the newer of the two thresholds, and when.
	By string
	At time.Time
}

// String says what is in force in one line.
func (f InForce) String() string {
	if !f.Recorded {
		return fmt.Sprintf("pass %.2f, reject %.2f: the model's defaults (no thresholds recorded in the trail)", f.Pass, f.Reject)
	}
	return fmt.Sprintf("pass %.2f, reject %.2f: recorded by %s at %s", f.Pass, f.Reject, f.By, f.At.Local().Format("2006-01-02 15:04"))
}

// ThresholdsInForce reads the thresholds in force from store's trail,
// with defaults (the model's) when the trail records none. A recorded
// pair is held to the station's ranges, as the window's sliders hold it.
// A nil store gives the defaults.
func ThresholdsInForce(ctx context.Context, store *audit.Store, defaults verdict.Thresholds) (InForce, error) {
	in := InForce{Thresholds: defaults}
	if store == nil {
		return in, nil
	}
	latest, err := store.LatestSettingChanges(ctx)
	if err != nil {
		return in, err
	}
	pc, pok := latest[audit.SettingPassThreshold]
	rc, rok := latest[audit.SettingRejectThreshold]
	if !pok || !rok {
		return in, nil
	}
	pass, perr := strconv.ParseFloat(pc.NewValue, 64)
	reject, rerr := strconv.ParseFloat(rc.NewValue, 64)
	if perr != nil || rerr != nil {
		return in, fmt.Errorf("the trail's recorded thresholds %q and %q are not numbers", pc.NewValue, rc.NewValue)
	}
	newer := pc
	if rc.ID > pc.ID {
		newer = rc
	}
	return InForce{Thresholds: verdict.Thresholds{Pass: pass, Reject: reject}.FitStation(), Recorded: true,
		By: newer.ChangedBy, At: newer.ChangedAt}, nil
}

// FormatThreshold is how a threshold is recorded in the trail.
func FormatThreshold(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// RecordThresholds records a change of the thresholds in force from old to
// now by who: each threshold that changed (both when old was never
// recorded), as the window's Unlock records a slider's move.
func RecordThresholds(ctx context.Context, store *audit.Store, who string, old InForce, now verdict.Thresholds) error {
	for _, s := range []struct {
		setting  string
		was, now float64
	}{{audit.SettingPassThreshold, old.Pass, now.Pass}, {audit.SettingRejectThreshold, old.Reject, now.Reject}} {
		was := FormatThreshold(s.was)
		if !old.Recorded {
			was = ""
		}
		if was == FormatThreshold(s.now) {
			continue
		}
		if err := store.AddSettingChange(ctx, who, s.setting, was, FormatThreshold(s.now)); err != nil {
			return err
		}
	}
	return nil
}
