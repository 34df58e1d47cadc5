package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"github.com/cfissuer/cfissuer/internal/httpapi"
	"github.com/cfissuer/cfissuer/issuer"
	"github.com/cfissuer/cfissuer/keys"
	"github.com/cfissuer/cfissuer/policy"
)

// Log attribute keys of reloads.
const (
	logKeyTrigger = "trigger"
	logKeyKeys    = "keys"
)

// reloadTimeout bounds one reload (every key source is fetched again).
const reloadTimeout = 30 * time.Second

// serveState is what a reload replaces, built whole before anything is
// swapped in.
type serveState struct {
	cfg     *ServeConfig
	base    string // relative file names in cfg are taken from here
	bs      *policy.Behaviors
	ring    *keys.Ring
	callers *issuer.Callers
	digest  string // of the config, the behaviors file and the keys loaded
}

// loadState reads the behaviors file, loads every key and builds the
// callers for cfg.
func loadState(ctx context.Context, cfg *ServeConfig, base string) (*serveState, error) {
	raw, err := os.ReadFile(cfg.Behaviors)
	if err != nil {
		return nil, fmt.Errorf("behaviors: %w", err)
	}
	bs, err := policy.ParseBehaviors(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	ring, err := cfg.Ring(ctx, base, bs)
	if err != nil {
		return nil, err
	}
	list, err := cfg.CallerList(bs)
	if err != nil {
		return nil, err
	}
	callers, err := issuer.NewCallers(list)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	cfgYAML, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(h, "%d:%s%d:%s", len(cfgYAML), cfgYAML, len(raw), raw)
	for _, k := range ring.Keys() {
		fp, err := keys.Fingerprint(k.Signer.Public())
		if err != nil {
			return nil, err
		}
		where := ""
		if ks, ok := k.Signer.(*keys.KMSSigner); ok {
			where = ks.KMSKey()
		}
		fmt.Fprintf(h, "|%s %s %s", k.Signer.KeyID(), fp, where)
	}
	return &serveState{cfg: cfg, base: base, bs: bs, ring: ring, callers: callers, digest: hex.EncodeToString(h.Sum(nil))}, nil
}

// A reloader re-reads the config, the behaviors file and every key source
// on SIGHUP and on the configured interval. Anything broken leaves the
// previous state serving: the new keys, behaviors and callers are all
// built and checked (issuer.Update checks that every signed behavior has a
// key) before any of them is swapped in. A reload that finds nothing
// changed swaps nothing, so the signature cache (and the KMS calls it
// saves) survives the poll.
type reloader struct {
	reread func() (*ServeConfig, string, error) // the config again, with the same flags and environment
	is     *issuer.Issuer
	srv    *httpapi.Server
	log    *slog.Logger

	mu   sync.Mutex
	last *serveState

	total   *prometheus.CounterVec
	lastOK  prometheus.Gauge
	lastErr prometheus.Gauge
}

func newReloader(reread func() (*ServeConfig, string, error), first *serveState, is *issuer.Issuer, srv *httpapi.Server, log *slog.Logger, reg *prometheus.Registry, now func() time.Time) *reloader {
	r := &reloader{reread: reread, is: is, srv: srv, log: log, last: first,
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cfissuer_reloads_total",
			Help: "Reloads of config, behaviors and keys by result: ok (swapped in), unchanged, error (the previous state keeps serving)."}, []string{"result"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cfissuer_reload_last_success_timestamp_seconds",
			Help: "When the state serving now was loaded (Unix time)."}),
		lastErr: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cfissuer_reload_failing",
			Help: "1 while the last reload failed (the previous state is serving), 0 after a good one."}),
	}
	r.lastOK.Set(float64(now().Unix()))
	for _, res := range []string{"ok", "unchanged", "error"} {
		r.total.WithLabelValues(res)
	}
	untilRetire := func(stop bool) func() float64 {
		return func() float64 {
			ring, t := is.Ring(), is.Now()
			k, ok := ring.Current(t)
			switch {
			case !ok:
				return 0
			case k.RetireAt.IsZero():
				return math.Inf(1)
			case stop:
				return k.SigningUntil(ring.Longest()).Sub(t).Seconds()
			default:
				return k.RetireAt.Sub(t).Seconds()
			}
		}
	}
	reg.MustRegister(r.total, r.lastOK, r.lastErr,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cfissuer_signing_key_retire_seconds",
			Help: "Seconds until the key that signs now retires (+Inf: no retire_at; 0: no key is active)."}, untilRetire(false)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cfissuer_signing_key_signing_seconds",
			Help: "Seconds until the key that signs now stops signing (retire_at - L); a newer key may take over earlier (+Inf: no retire_at; 0: no key is active)."}, untilRetire(true)),
	)
	return r
}

// reload builds the whole new state and swaps it in, or keeps the old one
// and reports why. Its errors name the file, field or key source at fault,
// never key material.
func (r *reloader) reload(ctx context.Context, trigger string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	st, err := r.build(ctx)
	if err == nil && st.digest == r.last.digest {
		r.total.WithLabelValues("unchanged").Inc()
		r.lastErr.Set(0)
		r.log.Debug("reload: nothing changed", slog.String(logKeyTrigger, trigger))
		return nil
	}
	if err == nil {
		err = r.is.Update(st.ring, st.bs)
	}
	if err == nil {
		err = r.srv.SetCallers(st.callers)
	}
	if err != nil {
		r.total.WithLabelValues("error").Inc()
		r.lastErr.Set(1)
		r.log.Error("reload failed: the previous config, behaviors and keys keep serving",
			slog.String(logKeyTrigger, trigger), slog.String(logKeyError, err.Error()))
		return err
	}
	if old, cur := r.last.cfg, st.cfg; old.Listen != cur.Listen || old.Limits != cur.Limits || old.Log != cur.Log || old.CacheSize != cur.CacheSize || old.ReloadInterval != cur.ReloadInterval || old.Revocation != cur.Revocation {
		r.log.Warn("reload: listen, limits, log, cache_size, reload_interval and revocation take effect on restart only", slog.String(logKeyTrigger, trigger))
	}
	r.last = st
	r.total.WithLabelValues("ok").Inc()
	r.lastErr.Set(0)
	r.lastOK.Set(float64(r.is.Now().Unix()))
	var ids []string
	now := r.is.Now()
	for _, k := range st.ring.Keys() {
		ids = append(ids, k.Signer.KeyID()+"="+string(k.State(now, st.ring.Longest())))
	}
	r.log.Info("reloaded config, behaviors and keys", slog.String(logKeyTrigger, trigger), slog.Any(logKeyKeys, ids))
	return nil
}

func (r *reloader) build(ctx context.Context) (*serveState, error) {
	cfg, base := r.last.cfg, r.last.base
	if r.reread != nil {
		var err error
		if cfg, base, err = r.reread(); err != nil {
			return nil, err
		}
	}
	return loadState(ctx, cfg, base)
}

// run reloads on every signal from hup and every interval (zero: signals
// only) until ctx ends.
func (r *reloader) run(ctx context.Context, interval time.Duration, hup <-chan os.Signal) {
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			r.reload(ctx, "SIGHUP")
		case <-tick:
			r.reload(ctx, "interval")
		}
	}
}
