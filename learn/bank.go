package learn

import (
	"context"
	"crypto/sha256"
	"encoding/binary"

	"steelinspect/inference"
	"steelinspect/models"
	"steelinspect/teach"
)

// The head also weighs each cell's distance to good steel: a memory bank
// of defect-free cells, searched in the same backbone run at the station.
// A strip's own cells in the bank would make its distances zero, so the
// defect-free strips are split in two halves by hash, a bank is chosen from
// each, and every strip is measured against a bank that never held it:
// half A against bank B, everything else against bank A. The model keeps
// bank A.

const (
	// learnBankRows is the bank's size: the search costs the station
	// time on every strip, so it is kept smaller than teach's.
	learnBankRows = 1024
	// bankCellsPerStrip is each defect-free strip's share of the pool the
	// bank is chosen from.
	bankCellsPerStrip = 400
	// minBankStrips is the fewest defect-free strips each half needs.
	minBankStrips = 2
)

// inHalfA says which half of the defect-free strips a strip is in.
func inHalfA(sha string) bool {
	h := sha256.Sum256([]byte("bank\x00" + sha))
	return binary.BigEndian.Uint64(h[:8])%2 == 0
}

// bankOf chooses a bank from the defect-free strips of one half.
func bankOf(ctx context.Context, strips []featured, halfA bool) ([][]float32, error) {
	var pool [][]float32
	for _, s := range strips {
		if s.Defective || inHalfA(s.sha) != halfA {
			continue
		}
		rng := rngFor(s.sha)
		n := s.grid.cells()
		for _, i := range rng.Perm(n)[:min(bankCellsPerStrip, n)] {
			pool = append(pool, s.grid.feature(i))
		}
	}
	return teach.Coreset(ctx, pool, min(learnBankRows, len(pool)), nil)
}

// enoughForBanks says whether each half holds enough defect-free strips.
func enoughForBanks(strips []featured) bool {
	var a, b int
	for _, s := range strips {
		if !s.Defective {
			if inHalfA(s.sha) {
				a++
			} else {
				b++
			}
		}
	}
	return a >= minBankStrips && b >= minBankStrips
}

// bankEngine chooses one half's bank and opens the backbone with it.
func bankEngine(ctx context.Context, strips []featured, halfA bool, opts inference.EngineOptions) ([][]float32, *inference.Engine, error) {
	bank, err := bankOf(ctx, strips, halfA)
	if err != nil {
		return nil, nil, err
	}
	base, onnx := models.AnomalyBackbone()
	e, _, err := teach.OpenWithBank(base, onnx, bank, inference.ScoreMapping{Scale: 1}, opts)
	return bank, e, err
}

// measureDistances gives every strip its cells' distances to good steel
// and returns bank A, or nil when there are too few defect-free strips to
// split (the head then weighs the features alone).
func measureDistances(ctx context.Context, strips []featured, opts Options, cache featureCache, prog func(done, total int)) ([][]float32, error) {
	if !enoughForBanks(strips) {
		return nil, nil
	}
	var engines [2]*inference.Engine
	var bankSHA [2]string
	var bankA [][]float32
	defer func() {
		for _, e := range engines {
			if e != nil {
				e.Close()
			}
		}
	}()
	for k, half := range []bool{true, false} {
		bank, e, err := bankEngine(ctx, strips, half, opts.Engine)
		if err != nil {
			return nil, err
		}
		if half {
			bankA = bank
		}
		bankSHA[k] = inference.SHA256Hex(inference.EncodeBank(bank))
		engines[k] = e
	}
	for i := range strips {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		prog(i+1, len(strips))
		s := &strips[i]
		k := 0 // bank A
		if !s.Defective && inHalfA(s.sha) {
			k = 1
		}
		dist, err := distancesOf(ctx, s, engines[k], cache, s.sha+"-dist-"+bankSHA[k][:16])
		if err != nil {
			return nil, err
		}
		s.dist = dist
	}
	return bankA, nil
}

// distancesOf reads a strip's cell distances from the cache under key, or
// measures them with e (a bank engine) and keeps them.
func distancesOf(ctx context.Context, s *featured, e *inference.Engine, cache featureCache, key string) ([]float32, error) {
	if g := cache.load(key); g != nil && g.Cols == s.grid.cols && g.Rows == s.grid.rows {
		return g.Values, nil
	}
	d, err := decodeFile(s.Path)
	if err != nil {
		return nil, err
	}
	g, err := e.CellGridOf(ctx, d.Image)
	if err != nil {
		return nil, err
	}
	dg := &inference.CellGrid{Cell: g.Cell, Cols: g.Cols, Rows: g.Rows, Dim: 1, Values: g.Distances}
	halfPrecision(dg.Values)
	_ = cache.store(key, dg)
	return dg.Values, nil
}
