package ui

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"steelinspect/verdict"
)

// The arrival sound: a watched folder's REJECT or REVIEW can also be
// announced by a short tone, for an inspector looking at the line rather
// than the screen. Fyne has no audio, so the tone is a small WAV file
// played by the system's own player (PipeWire's pw-play, PulseAudio's
// paplay or ALSA's aplay, whichever is installed; alsa-utils comes with
// `make run`). It is off unless the user turns it on.

// soundPlayers are the players tried, in order, with the arguments that
// play a WAV file quietly.
var soundPlayers = []struct {
	name string
	args []string
}{
	{"pw-play", nil},
	{"paplay", nil},
	{"aplay", []string{"-q"}},
}

// soundPlayer finds an installed player; empty when there is none.
func soundPlayer() (string, []string) {
	for _, p := range soundPlayers {
		if path, err := exec.LookPath(p.name); err == nil {
			return path, p.args
		}
	}
	return "", nil
}

// alertTones are the tones of each announced decision: REJECT two high
// beeps, REVIEW one lower beep, so the two can be told apart by ear.
func alertTones(d verdict.Decision) []float64 {
	if d == verdict.Reject {
		return []float64{1320, 0, 1320}
	}
	return []float64{880}
}

// toneSampleRate is the WAV's sample rate; toneLength one tone's length.
const (
	toneSampleRate = 22050
	toneLength     = 150 * time.Millisecond
)

// toneWAV is a mono 16-bit PCM WAV of the given tones, one after another
// (0 is a pause), each faded in and out so it does not click.
func toneWAV(freqs []float64) []byte {
	per := int(toneLength.Seconds() * toneSampleRate)
	fade := per / 10
	samples := make([]int16, 0, per*len(freqs))
	for _, f := range freqs {
		for n := range per {
			v := 0.0
			if f > 0 {
				env := math.Min(1, math.Min(float64(n)/float64(fade), float64(per-1-n)/float64(fade)))
				v = 0.4 * env * math.Sin(2*math.Pi*f*float64(n)/toneSampleRate)
			}
			samples = append(samples, int16(v*math.MaxInt16))
		}
	}
	var b bytes.Buffer
	data := uint32(2 * len(samples))
	le := binary.LittleEndian
	b.WriteString("RIFF")
	_ = binary.Write(&b, le, 36+data)
	b.WriteString("WAVEfmt ")
	// fmt chunk: size 16, PCM, mono, rate, byte rate, block align, bits
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(toneSampleRate), uint32(2 * toneSampleRate), uint16(2), uint16(16)} {
		_ = binary.Write(&b, le, v)
	}
	b.WriteString("data")
	_ = binary.Write(&b, le, data)
	_ = binary.Write(&b, le, samples)
	return b.Bytes()
}

// alertFiles holds the written WAV file of each decision, made once.
var alertFiles struct {
	sync.Mutex
	paths map[verdict.Decision]string
}

// alertFile writes d's tone to a file in the temporary folder, once per
// run.
func alertFile(d verdict.Decision) (string, error) {
	alertFiles.Lock()
	defer alertFiles.Unlock()
	if p, ok := alertFiles.paths[d]; ok {
		return p, nil
	}
	p := filepath.Join(os.TempDir(), fmt.Sprintf("steelinspect-%d-%s.wav", os.Getpid(), d))
	if err := os.WriteFile(p, toneWAV(alertTones(d)), 0o600); err != nil {
		return "", err
	}
	if alertFiles.paths == nil {
		alertFiles.paths = map[verdict.Decision]string{}
	}
	alertFiles.paths[d] = p
	return p, nil
}

// removeAlertFiles deletes the tone files written by this run.
func removeAlertFiles() {
	alertFiles.Lock()
	defer alertFiles.Unlock()
	for d, p := range alertFiles.paths {
		os.Remove(p)
		delete(alertFiles.paths, d)
	}
}

// errNoPlayer says why no sound was played.
var errNoPlayer = errors.New("no sound player found (install pipewire, pulseaudio-utils or alsa-utils)")

// playAlert plays d's tone and waits for it, at most a few seconds. It
// runs off the UI goroutine.
func playAlert(d verdict.Decision) error {
	player, args := soundPlayer()
	if player == "" {
		return errNoPlayer
	}
	path, err := alertFile(d)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, player, append(args, path)...).CombinedOutput()
	if err != nil {
		// one line: the player's last words (ALSA prints a trace)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return fmt.Errorf("%s: %v: %s", filepath.Base(player), err, strings.TrimSpace(lines[len(lines)-1]))
	}
	return nil
}
