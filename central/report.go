package central

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"steelinspect/verdict"
)

// Shifts, by the reporting machine's local hour: early 06–14, late
// 14–22, night 22–06.
func shiftOf(hour int) string {
	switch {
	case hour >= 6 && hour < 14:
		return "early"
	case hour >= 14 && hour < 22:
		return "late"
	}
	return "night"
}

// ReportRow is one station and shift over the report's period.
type ReportRow struct {
	Station string
	Line    string // the station's production line ("" when not given)
	Shift   string
	Total   int
	// Final decisions (the operator's where there is one).
	Pass, Review, Reject int
	// AutoReview counts strips the station sent to a person; Overridden
	// those whose automatic PASS or REJECT an operator turned round.
	AutoReview, Overridden int
	// Unfamiliar counts strips the model found unlike anything it knows
	// (a caution of kind unfamiliar).
	Unfamiliar int
}

// add counts n inspections of one final and one automatic decision, as
// the trail wrote them; a group whose final or automatic decision this
// version does not know counts in Total only (the plant's report is not
// refused for one station's odd rows).
func (r *ReportRow) add(final, auto string, n int) {
	r.Total += n
	f, ferr := verdict.ParseDecision(final)
	a, aerr := verdict.ParseDecision(auto)
	if ferr != nil || aerr != nil {
		return
	}
	switch f {
	case verdict.Pass:
		r.Pass += n
	case verdict.Review:
		r.Review += n
	default:
		r.Reject += n
	}
	if a == verdict.Review {
		r.AutoReview += n
	} else if f != a {
		r.Overridden += n
	}
}

// ReviewRate is the share of strips sent to a person.
func (r ReportRow) ReviewRate() float64 { return share(r.AutoReview, r.Total) }

// OverrideRate is the share of automatic decisions an operator turned
// round.
func (r ReportRow) OverrideRate() float64 { return share(r.Overridden, r.Total-r.AutoReview) }

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// Override is one automatic decision an operator turned round.
type Override struct {
	Station, Path    string
	Auto, Final      verdict.Decision
	Operator, Reason string
	InspectedAt      time.Time
}

// ReportQuery is what a report covers.
type ReportQuery struct {
	Since time.Time
	Loc   *time.Location // the shifts' local time
	Line  string         // "" every line
	Top   int            // the latest overrides listed
}

// Report counts the inspections since q.Since across stations (on
// q.Line), by station and shift, and lists the latest overrides.
func Report(ctx context.Context, conn *pgx.Conn, q ReportQuery) ([]ReportRow, []Override, error) {
	// the shift by the local hour: loc's offset at the period's start (a
	// daylight-saving change inside the period shifts its later hours)
	_, offset := q.Since.In(q.Loc).Zone()
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	from := inspectionsIn(arg, q.Since, time.Time{})
	hours, line := arg(float64(offset)), arg(q.Line)
	unfamiliar := arg(string(verdict.CautionUnfamiliar))
	rows, err := conn.Query(ctx, `SELECT inspections.station, COALESCE(s.line, ''),
			EXTRACT(hour FROM ((inspections.recorded_at AT TIME ZONE 'UTC') + make_interval(secs => `+hours+`)))::int,
			COALESCE(review->>'decision', p->>'auto_decision'), p->>'auto_decision',
			POSITION(`+unfamiliar+` IN COALESCE(p->>'caution_kinds', '')) > 0, COUNT(*)
		FROM `+from+` LEFT JOIN stations s ON s.station = inspections.station
		WHERE (`+line+` = '' OR s.line = `+line+`)
		GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 3`, args...)
	if err != nil {
		return nil, nil, err
	}
	byKey := map[[2]string]*ReportRow{}
	var order [][2]string
	for rows.Next() {
		var station, line, final, auto string
		var hour, n int
		var unfamiliar bool
		if err := rows.Scan(&station, &line, &hour, &final, &auto, &unfamiliar, &n); err != nil {
			rows.Close()
			return nil, nil, err
		}
		key := [2]string{station, shiftOf(hour)}
		r := byKey[key]
		if r == nil {
			r = &ReportRow{Station: station, Line: line, Shift: key[1]}
			byKey[key] = r
			order = append(order, key)
		}
		r.add(final, auto, n)
		if unfamiliar {
			r.Unfamiliar += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	out := make([]ReportRow, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sortShifts(out)
	args = nil
	from = inspectionsIn(arg, q.Since, time.Time{})
	line = arg(q.Line)
	review := arg(verdict.Review.String())
	orows, err := conn.Query(ctx, `SELECT station, p->>'path', p->>'auto_decision', review->>'decision', review->>'operator',
			COALESCE(review->>'reason', ''), recorded_at
		FROM `+from+` WHERE review IS NOT NULL
			AND p->>'auto_decision' <> `+review+` AND review->>'decision' <> p->>'auto_decision'
			AND (`+line+` = '' OR station IN (SELECT station FROM stations WHERE line = `+line+`))
		ORDER BY recorded_at DESC LIMIT `+arg(q.Top), args...)
	if err != nil {
		return nil, nil, err
	}
	overrides, err := pgx.CollectRows(orows, func(r pgx.CollectableRow) (Override, error) {
		var o Override
		err := r.Scan(&o.Station, &o.Path, &o.Auto, &o.Final, &o.Operator, &o.Reason, &o.InspectedAt)
		return o, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("overrides: %w", err)
	}
	return out, overrides, nil
}

// StationInfo is a station that records in the central database.
type StationInfo struct {
	Station, Line string
	// LastSeen is when the station last connected or delivered: a
	// station silent for long is down, cut off, or refused.
	LastSeen time.Time
}

// StationList is every station known to the central database (on line,
// "" every line), by line and name.
func StationList(ctx context.Context, conn *pgx.Conn, line string) ([]StationInfo, error) {
	rows, err := conn.Query(ctx, `SELECT station, line, last_seen FROM stations WHERE $1 = '' OR line = $1 ORDER BY line, station`, line)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (StationInfo, error) {
		var s StationInfo
		err := r.Scan(&s.Station, &s.Line, &s.LastSeen)
		return s, err
	})
}

// sortShifts puts each station's shifts in the order of the day: early,
// late, night.
func sortShifts(rows []ReportRow) {
	rank := map[string]int{"early": 0, "late": 1, "night": 2}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Station != rows[j].Station {
			return rows[i].Station < rows[j].Station
		}
		return rank[rows[i].Shift] < rank[rows[j].Shift]
	})
}
