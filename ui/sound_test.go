package ui

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"steelinspect/verdict"
)

// TestToneWAV: the alert is a well-formed mono 16-bit PCM WAV whose
// length follows its tones; REJECT and REVIEW sound different.
func TestToneWAV(t *testing.T) {
	for _, d := range []verdict.Decision{verdict.Reject, verdict.Review} {
		w := toneWAV(alertTones(d))
		le := binary.LittleEndian
		if string(w[0:4]) != "RIFF" || string(w[8:16]) != "WAVEfmt " || string(w[36:40]) != "data" {
			t.Fatalf("%s: not a WAV header: %q", d, w[:44])
		}
		if le.Uint16(w[20:22]) != 1 || le.Uint16(w[22:24]) != 1 || le.Uint32(w[24:28]) != toneSampleRate || le.Uint16(w[34:36]) != 16 {
			t.Errorf("%s: format %x", d, w[20:36])
		}
		data := le.Uint32(w[40:44])
		want := uint32(2 * len(alertTones(d)) * int(toneLength.Seconds()*toneSampleRate))
		if data != want || int(data)+44 != len(w) || le.Uint32(w[4:8]) != 36+data {
			t.Errorf("%s: data %d bytes (file %d), want %d", d, data, len(w), want)
		}
	}
	if string(toneWAV(alertTones(verdict.Reject))) == string(toneWAV(alertTones(verdict.Review))) {
		t.Error("REJECT and REVIEW sound alike")
	}
}

// TestPlayAlert: with no player installed the sound fails with a clear
// reason; with one, it is handed the tone's WAV file.
func TestPlayAlert(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if err := playAlert(verdict.Reject); err == nil || !strings.Contains(err.Error(), "no sound player") {
		t.Fatalf("no player: %v", err)
	}
	bin := t.TempDir()
	got := filepath.Join(t.TempDir(), "args")
	script := "#!/bin/sh\necho \"$@\" > " + got + "\n"
	if err := os.WriteFile(filepath.Join(bin, "aplay"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	if err := playAlert(verdict.Review); err != nil {
		t.Fatal(err)
	}
	args, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(args))
	if len(f) != 2 || f[0] != "-q" {
		t.Fatalf("aplay called with %q", args)
	}
	wav, err := os.ReadFile(f[1])
	if err != nil || string(wav) != string(toneWAV(alertTones(verdict.Review))) {
		t.Errorf("played file %s: %v", f[1], err)
	}
}
