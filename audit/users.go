package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Named users with roles. An operator decides strips; a supervisor also
// changes the settings that change decisions (thresholds, model); an
// admin also manages users. Passwords are kept only as bcrypt hashes in
// the station's database. Every sign-in, failed attempt, unlock, sign-out
// and change of a user is an access event, chained like every record.

// Roles, least to most.
const (
	RoleOperator   = "operator"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// MinPasswordLength is the shortest password (or PIN) a user may have.
const MinPasswordLength = 6

// passwordCost is bcrypt's work factor.
const passwordCost = 11

const usersSchema = `
CREATE TABLE IF NOT EXISTS users (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
	role       TEXT NOT NULL CHECK (role IN ('operator','supervisor','admin')),
	hash       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	disabled   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS access_events (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	at     TEXT NOT NULL,
	user   TEXT NOT NULL,
	event  TEXT NOT NULL,
	detail TEXT NOT NULL
);
`

// User is a named user.
type User struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Disabled bool   `json:"disabled,omitempty"`
}

// Can says whether the user's role includes role.
func (u User) Can(role string) bool { return rank(u.Role) >= rank(role) }

func rank(role string) int {
	switch role {
	case RoleOperator:
		return 1
	case RoleSupervisor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Access events.
const (
	EventSignIn      = "sign_in"
	EventFailed      = "failed_sign_in"
	EventUnlock      = "unlock"
	EventSignOut     = "sign_out"
	EventUserAdded   = "user_added"
	EventUserChanged = "user_changed"
	// EventChainAdopted: the rows of a trail from before the hash chain
	// were chained once, when it was first opened with one.
	EventChainAdopted = "chain_adopted"
	// EventChainRebuilt: a trail that had a chain was found without it
	// (dropped behind the station's back) and its rows adopted again.
	EventChainRebuilt = "chain_rebuilt"
)

// SettingOperatorFreeText is the recorded setting ("on" or "off") that
// lets the operator on shift be typed in rather than signed in, on a
// station with users (an admin's choice, made on the command line).
const SettingOperatorFreeText = "operator_free_text"

// The recorded settings that change decisions: the thresholds in force
// (each as "0.40") and the model in use.
const (
	SettingPassThreshold   = "pass_threshold"
	SettingRejectThreshold = "reject_threshold"
	SettingModel           = "model"
)

// ErrWrongPassword is a sign-in refused for its name or password (which
// one is not said).
var ErrWrongPassword = errors.New("unknown user or wrong password")

// AddUser creates a user; by names who did it (for the access events).
func (s *Store) AddUser(ctx context.Context, by, name, role, password string) error {
	name, err := CanonicalUserName(name)
	if err != nil {
		return err
	}
	if err := s.refuseLookAlike(ctx, name); err != nil {
		return err
	}
	if rank(role) == 0 {
		return fmt.Errorf("role %q is not operator, supervisor or admin", role)
	}
	if len(password) < MinPasswordLength {
		return fmt.Errorf("the password needs at least %d characters", MinPasswordLength)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), passwordCost)
	if err != nil {
		return err
	}
	return s.inTx(ctx, "add user "+name, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (name, role, hash, created_at) VALUES (?,?,?,?)`,
			name, role, string(hash), time.Now().UTC().Format(timeLayout)); err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return fmt.Errorf("a user named %s exists already", name)
			}
			return err
		}
		if err := recordUserState(ctx, tx, by, name); err != nil {
			return err
		}
		return addAccessEvent(ctx, tx, by, EventUserAdded, name+" as "+role)
	})
}

// SetPassword gives a user a new password.
func (s *Store) SetPassword(ctx context.Context, by, name, password string) error {
	if len(password) < MinPasswordLength {
		return fmt.Errorf("the password needs at least %d characters", MinPasswordLength)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), passwordCost)
	if err != nil {
		return err
	}
	return s.changeUser(ctx, by, name, "new password", `UPDATE users SET hash = ? WHERE name = ?`, string(hash), name)
}

// SetDisabled disables (or enables again) a user: a disabled user cannot
// sign in. Users are never deleted: the trail names them.
func (s *Store) SetDisabled(ctx context.Context, by, name string, disabled bool) error {
	detail := "enabled"
	if disabled {
		detail = "disabled"
	}
	return s.changeUser(ctx, by, name, detail, `UPDATE users SET disabled = ? WHERE name = ?`, disabled, name)
}

func (s *Store) changeUser(ctx context.Context, by, name, detail, query string, args ...any) error {
	return s.inTx(ctx, "change user "+name, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("no user named %s", name)
		}
		if err := recordUserState(ctx, tx, by, name); err != nil {
			return err
		}
		return addAccessEvent(ctx, tx, by, EventUserChanged, name+": "+detail)
	})
}

// Users lists the users, by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, role, disabled FROM users ORDER BY name COLLATE NOCASE`)
	if err != nil {
		return nil, fmt.Errorf("users: %s", explain(err))
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.Name, &u.Role, &u.Disabled); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// HasRole says whether an enabled user holds role or a higher one.
func (s *Store) HasRole(ctx context.Context, role string) (bool, error) {
	users, err := s.Users(ctx)
	if err != nil {
		return false, err
	}
	for _, u := range users {
		if !u.Disabled && u.Can(role) {
			return true, nil
		}
	}
	return false, nil
}

// AddAccessEvent records an access event by user.
func (s *Store) AddAccessEvent(ctx context.Context, user, event, detail string) error {
	return s.inTx(ctx, "record "+event, func(tx *sql.Tx) error { return addAccessEvent(ctx, tx, user, event, detail) })
}

func addAccessEvent(ctx context.Context, tx *sql.Tx, user, event, detail string) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO access_events (at, user, event, detail) VALUES (?,?,?,?)`,
		timeNow().UTC().Format(timeLayout), user, event, detail)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	return appendChain(ctx, tx, "access", id)
}

// AccessEvent is one recorded access event.
type AccessEvent struct {
	At     time.Time `json:"at"`
	User   string    `json:"user"`
	Event  string    `json:"event"`
	Detail string    `json:"detail"`
}

// AccessEvents lists the access events, oldest first.
func (s *Store) AccessEvents(ctx context.Context) ([]AccessEvent, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, user, event, detail FROM access_events ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("access events: %s", explain(err))
	}
	defer rows.Close()
	var out []AccessEvent
	for rows.Next() {
		var e AccessEvent
		var at string
		if err := rows.Scan(&at, &e.User, &e.Event, &e.Detail); err != nil {
			return nil, err
		}
		e.At, _ = time.Parse(timeLayout, at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// userChangesSchema is schema version 2's: each user's state (role, a
// digest of the password hash, disabled) as of each change, chained, so
// that the users table, which is changed in place, can be checked
// against the trail.
const userChangesSchema = `
CREATE TABLE IF NOT EXISTS user_changes (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	at          TEXT NOT NULL,
	changed_by  TEXT NOT NULL,
	name        TEXT NOT NULL,
	role        TEXT NOT NULL,
	hash_sha256 TEXT NOT NULL,
	disabled    INTEGER NOT NULL
);
`

// chainUsers is schema step 2: user_changes, with the users already in
// the trail adopted as their first rows.
func chainUsers(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, userChangesSchema); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM users WHERE name NOT IN (SELECT name FROM user_changes) ORDER BY id`)
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if err := recordUserState(ctx, tx, "station (users adopted into the chain)", n); err != nil {
			return err
		}
	}
	return rows.Err()
}

// userState is what the chain records of a user.
type userState struct {
	role, hashDigest string
	disabled         bool
}

// digest is the recorded form of a password hash: its SHA-256, so the
// chain, which is exported and forwarded, never carries the hash itself.
func digest(hash string) string {
	sum := sha256.Sum256([]byte(hash))
	return hex.EncodeToString(sum[:])
}

// recordUserState chains user name's state as it now is in users, by
// who, in the transaction that changed it.
func recordUserState(ctx context.Context, tx *sql.Tx, by, name string) error {
	var role, hash string
	var disabled bool
	if err := tx.QueryRowContext(ctx, `SELECT name, role, hash, disabled FROM users WHERE name = ?`, name).Scan(&name, &role, &hash, &disabled); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO user_changes (at, changed_by, name, role, hash_sha256, disabled) VALUES (?,?,?,?,?,?)`,
		time.Now().UTC().Format(timeLayout), by, name, role, digest(hash), disabled)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	return appendChain(ctx, tx, "user", id)
}

// verifyUsers checks every user against the state the chain last
// recorded for them: a role, password or disabled flag changed with the
// sqlite3 shell, or a user added there, is a problem.
func (s *Store) verifyUsers(ctx context.Context, v *Verification) error {
	var tables int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'user_changes')`).Scan(&tables); err != nil {
		return fmt.Errorf("verify users: %s", explain(err))
	}
	if tables < 2 {
		v.problem("the users table or its recorded changes were dropped")
		return nil
	}
	recorded := map[string]userState{}
	rows, err := s.db.QueryContext(ctx, `SELECT name, role, hash_sha256, disabled FROM user_changes
		WHERE id IN (SELECT MAX(id) FROM user_changes GROUP BY name COLLATE NOCASE)`)
	if err != nil {
		return fmt.Errorf("verify users: %s", explain(err))
	}
	for rows.Next() {
		var name string
		var st userState
		if err := rows.Scan(&name, &st.role, &st.hashDigest, &st.disabled); err != nil {
			rows.Close()
			return err
		}
		recorded[strings.ToLower(name)] = st
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, `SELECT name, role, hash, disabled FROM users ORDER BY id`)
	if err != nil {
		return fmt.Errorf("verify users: %s", explain(err))
	}
	defer rows.Close()
	for rows.Next() {
		var name, hash string
		var now userState
		if err := rows.Scan(&name, &now.role, &hash, &now.disabled); err != nil {
			return err
		}
		now.hashDigest = digest(hash)
		was, ok := recorded[strings.ToLower(name)]
		switch {
		case !ok:
			v.problem("user %s was added outside the trail (no recorded change made them)", name)
		case was.role != now.role:
			v.problem("user %s was changed outside the trail: role was %s, is %s", name, was.role, now.role)
		case was.hashDigest != now.hashDigest:
			v.problem("user %s was changed outside the trail: the password is not the one last recorded", name)
		case was.disabled != now.disabled:
			v.problem("user %s was changed outside the trail: disabled was %t, is %t", name, was.disabled, now.disabled)
		}
	}
	return rows.Err()
}
