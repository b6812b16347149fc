package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Where a strip's image file went after it was recorded. The hot folder
// moves each file it scores into its PASS, REVIEW or REJECT folder, and a
// person's decision on a strip it filed moves the file on to the folder
// of that decision; each move, and each move that could not be made (the
// file was gone), is a row of file_moves, chained like every record. An
// inspection's Path stays where the file was when it was scored; its
// FilePath is where the newest move put it.

// fileMovesSchema is schema step 3's table.
const fileMovesSchema = `
CREATE TABLE IF NOT EXISTS file_moves (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	inspection_id INTEGER NOT NULL REFERENCES inspections(id),
	moved_at      TEXT NOT NULL,
	moved_by      TEXT NOT NULL,
	from_path     TEXT NOT NULL,
	to_path       TEXT, -- NULL: the file was not moved (note says why)
	note          TEXT
);
CREATE INDEX IF NOT EXISTS file_moves_inspection ON file_moves(inspection_id);
`

// addFileMoves is schema step 3: the file_moves table (chained as "move").
func addFileMoves(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, fileMovesSchema)
	return err
}

// FileMove is one recorded move of a strip's file, or a move that was
// not made.
type FileMove struct {
	ID           int64     `json:"id"`
	InspectionID int64     `json:"inspection_id"`
	MovedAt      time.Time `json:"moved_at"`
	// MovedBy is who moved it: the hot folder, or the person whose
	// decision moved it.
	MovedBy string `json:"moved_by"`
	From    string `json:"from_path"`
	// To is where the file went; "" when it was not moved, Note saying
	// why.
	To   string `json:"to_path,omitempty"`
	Note string `json:"note,omitempty"`
}

// AddMove records a move of inspection m.InspectionID's file from m.From
// to m.To by m.MovedBy, or (m.To empty) that it was not moved and why
// (m.Note); it returns the row's id once it is durable.
func (s *Store) AddMove(ctx context.Context, m FileMove) (int64, error) {
	switch {
	case strings.TrimSpace(m.MovedBy) == "":
		return 0, errors.New("record file move: who moved it is required")
	case m.From == "":
		return 0, errors.New("record file move: the path it was moved from is required")
	case m.To == "" && strings.TrimSpace(m.Note) == "":
		return 0, errors.New("record file move: a move not made needs a note saying why")
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inspections WHERE id = ?`, m.InspectionID).Scan(&n); err != nil {
		return 0, fmt.Errorf("record file move: %s", explain(err))
	}
	if n == 0 {
		return 0, fmt.Errorf("record file move: no inspection %d", m.InspectionID)
	}
	if m.MovedAt.IsZero() {
		m.MovedAt = time.Now()
	}
	var id int64
	err := s.inTx(ctx, "record file move of "+m.From, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO file_moves (inspection_id, moved_at, moved_by, from_path, to_path, note) VALUES (?,?,?,?,?,?)`,
			m.InspectionID, m.MovedAt.UTC().Format(timeLayout), m.MovedBy, m.From, nullIfEmpty(m.To), nullIfEmpty(m.Note))
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		return appendChain(ctx, tx, "move", id)
	})
	return id, err
}

// Moves lists inspection id's recorded file moves, oldest first.
func (s *Store) Moves(ctx context.Context, id int64) ([]FileMove, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, inspection_id, moved_at, moved_by, from_path, COALESCE(to_path,''), COALESCE(note,'')
		FROM file_moves WHERE inspection_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("file moves of %d: %s", id, explain(err))
	}
	defer rows.Close()
	var out []FileMove
	for rows.Next() {
		var m FileMove
		var at string
		if err := rows.Scan(&m.ID, &m.InspectionID, &at, &m.MovedBy, &m.From, &m.To, &m.Note); err != nil {
			return nil, err
		}
		m.MovedAt, _ = time.Parse(timeLayout, at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// filePathColumns are the SQL of an inspection's FilePath and FileNote
// (i is the inspection): where the newest move that was made put the
// file, and the newest move's note.
const filePathColumns = `COALESCE((SELECT to_path FROM file_moves WHERE inspection_id = i.id AND to_path IS NOT NULL ORDER BY id DESC LIMIT 1), ''),
		COALESCE((SELECT note FROM file_moves WHERE inspection_id = i.id ORDER BY id DESC LIMIT 1), '')`

// CurrentPath is where the trail says the strip's file is: where its
// newest recorded move put it, else where it was scored.
func (in *Inspection) CurrentPath() string {
	if in.FilePath != "" {
		return in.FilePath
	}
	return in.Path
}
