package audit

import (
	"context"
	"database/sql"
	"fmt"
)

// The defect class of an inspection. A model that gives classes (a
// station model learned from masks with classes, Severstal's 1 to 4)
// names the strip's most likely class when a patch is outside the pass
// zone (verdict.LikelyClass); the trail records it, with how many of
// the flagged patches share it, as a row of inspection_classes written
// in the same transaction as the inspection and chained as "class". The
// inspections table and its chained columns stay as they were, so the
// entries of the inspections recorded before keep their hashes.

// inspectionClassesSchema is schema step 4's table.
const inspectionClassesSchema = `
CREATE TABLE IF NOT EXISTS inspection_classes (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	inspection_id INTEGER NOT NULL UNIQUE REFERENCES inspections(id),
	recorded_at   TEXT NOT NULL,
	class         TEXT NOT NULL,
	patches       INTEGER NOT NULL
);
`

// addInspectionClasses is schema step 4: the inspection_classes table
// (chained as "class").
func addInspectionClasses(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, inspectionClassesSchema)
	return err
}

// classColumns are the columns the class of inspection id is written
// with.
func classColumns(id int64, in *Inspection) written {
	return written{[]string{"inspection_id", "recorded_at", "class", "patches"},
		[]any{id, in.InspectedAt.UTC().Format(timeLayout), in.DefectClass, int64(in.DefectPatches)}}
}

// addClass records the class of inspection id, in the transaction that
// records the inspection, when it has one.
func addClass(ctx context.Context, tx *sql.Tx, id int64, in *Inspection) error {
	if in.DefectClass == "" {
		return nil
	}
	if err := checkClass(in); err != nil {
		return err
	}
	res, err := insertRow(ctx, tx, "inspection_classes", classColumns(id, in))
	if err != nil {
		return err
	}
	row, err := res.LastInsertId()
	if err != nil {
		return err
	}
	return appendChain(ctx, tx, "class", row)
}

// checkClass refuses a class that cannot be recorded.
func checkClass(in *Inspection) error {
	if in.DefectPatches < 0 {
		return fmt.Errorf("defect class %s in %d patches: a count of patches is not negative", in.DefectClass, in.DefectPatches)
	}
	return nil
}

// ClassEntry is the chain entry that records the defect class of in,
// recorded as inspection inspectionID, as row id after prev, for a trail
// kept outside SQLite: the same payload a station's own trail chains for
// it. in must have a class, and the InspectedAt its inspection's entry
// was made with.
func ClassEntry(prev ChainEntry, id, inspectionID int64, in Inspection) (ChainEntry, error) {
	if in.DefectClass == "" {
		return ChainEntry{}, fmt.Errorf("inspection %d has no defect class to record", inspectionID)
	}
	if err := checkClass(&in); err != nil {
		return ChainEntry{}, err
	}
	p, err := payloadOf("class", id, classColumns(inspectionID, &in))
	return Link(prev, "class", id, p), err
}

// defectClassColumns are the SQL of an inspection's DefectClass and
// DefectPatches (i is the inspection).
const defectClassColumns = `COALESCE((SELECT class FROM inspection_classes WHERE inspection_id = i.id), ''),
		COALESCE((SELECT patches FROM inspection_classes WHERE inspection_id = i.id), 0)`
