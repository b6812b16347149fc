package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Rows as the chain records them. A station's own trail writes a row to
// SQLite and chains what it reads back (rowPayload); a trail kept
// elsewhere (the PostgreSQL trail that API instances share, package
// central) has no SQLite row and chains the same columns built here. The
// SQLite inserts take their values from these builders too, so both
// payloads are the same JSON for the same record.

// written is a row as written: its columns and their values, as SQLite
// stores them.
type written struct {
	columns []string
	values  []any
}

// inspectionColumns are the columns an inspection is written with (the
// operator's columns stay NULL: a review is a decisions row).
func inspectionColumns(in *Inspection) written {
	return written{[]string{"inspected_at", "source", "path", "sha256", "width", "height", "bytes",
		"model_name", "model_version", "model_sha256", "pass_threshold", "reject_threshold", "confidence", "mean_probability",
		"auto_decision", "caution_kinds", "cautions", "familiarity", "archive_path", "archive_sha256"},
		[]any{in.InspectedAt.UTC().Format(timeLayout), in.Source, in.Path, in.SHA256, int64(in.Width), int64(in.Height), int64(in.Bytes),
			in.ModelName, in.ModelVersion, in.ModelSHA256, in.PassThreshold, in.RejectThreshold, in.Confidence, in.MeanProbability,
			in.AutoDecision, nullIfEmpty(in.CautionKinds), nullIfEmpty(in.Cautions), familiarityValue(in.Familiarity),
			nullIfEmpty(in.ArchivePath), nullIfEmpty(in.ArchiveSHA256)}}
}

// insertRow inserts a row of table with columns and their values.
func insertRow(ctx context.Context, tx *sql.Tx, table string, w written) (sql.Result, error) {
	marks := strings.TrimSuffix(strings.Repeat("?,", len(w.columns)), ",")
	return tx.ExecContext(ctx, "INSERT INTO "+table+" ("+strings.Join(w.columns, ", ")+") VALUES ("+marks+")", w.values...)
}

func familiarityValue(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// purgeColumns are the columns an archive purge is written with.
func purgeColumns(at time.Time, path string, bytes int64, reason string) written {
	return written{[]string{"purged_at", "path", "bytes", "reason"}, []any{at.UTC().Format(timeLayout), path, bytes, reason}}
}

// payloadOf is the chain payload of row id of kind written as w: every
// column of the kind's table, NULL where not written.
func payloadOf(kind string, id int64, w written) (string, error) {
	t, ok := tableOf(kind)
	if !ok {
		return "", fmt.Errorf("chain: unknown kind %q", kind)
	}
	row := make(map[string]any, len(t.columns))
	for _, c := range t.columns {
		row[c] = nil
	}
	row["id"] = id
	for i, c := range w.columns {
		if _, known := row[c]; !known {
			return "", fmt.Errorf("chain: %s has no column %q", t.table, c)
		}
		row[c] = w.values[i]
	}
	out, err := json.Marshal(row) // sorted keys, as rowPayload's
	return string(out), err
}

// Link is the entry that follows prev (the zero entry for a trail's
// first) and chains row id of kind with payload.
func Link(prev ChainEntry, kind string, id int64, payload string) ChainEntry {
	return ChainEntry{Seq: prev.Seq + 1, Kind: kind, RowID: id, Payload: payload, Prev: prev.Hash,
		Hash: chainHash(prev.Hash, kind, id, payload)}
}

// InspectionEntry is the chain entry that records in as row id after
// prev, for a trail kept outside SQLite: the same payload a station's
// own trail chains for the same inspection.
func InspectionEntry(prev ChainEntry, id int64, in Inspection) (ChainEntry, error) {
	if in.InspectedAt.IsZero() {
		in.InspectedAt = time.Now()
	}
	p, err := payloadOf("inspection", id, inspectionColumns(&in))
	return Link(prev, "inspection", id, p), err
}

// PurgeEntry is the chain entry that records an archive purge as row id
// after prev, for a trail kept outside SQLite.
func PurgeEntry(prev ChainEntry, id int64, at time.Time, path string, bytes int64, reason string) (ChainEntry, error) {
	p, err := payloadOf("purge", id, purgeColumns(at, path, bytes, reason))
	return Link(prev, "purge", id, p), err
}

// RecordedAt is when an entry's row was written, by the row's own time
// column (inspected_at, decided_at, …): it is in the entry itself, so the
// same entry always gives the same time, wherever and whenever it is
// read. An entry without a readable time gives the Unix epoch.
func (e ChainEntry) RecordedAt() time.Time {
	var at time.Time
	if t, ok := tableOf(e.Kind); ok {
		var row map[string]json.RawMessage
		if json.Unmarshal([]byte(e.Payload), &row) == nil && json.Unmarshal(row[t.at], &at) == nil {
			return at.UTC()
		}
	}
	return time.Unix(0, 0).UTC()
}

// TimeColumns names each kind's time column in its payload (kind →
// column), for a store that files entries by their time.
func TimeColumns() map[string]string {
	out := make(map[string]string, len(chainTables))
	for _, t := range chainTables {
		out[t.kind] = t.at
	}
	return out
}

// Follows says whether e is whole and comes right after the entry whose
// hash is prev: a chain checked one entry at a time, as it streams.
func Follows(prev string, e ChainEntry) bool {
	return e.Prev == prev && chainHash(e.Prev, e.Kind, e.RowID, e.Payload) == e.Hash
}
