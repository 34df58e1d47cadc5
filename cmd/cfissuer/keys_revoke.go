package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cfissuer/cfissuer/issuer"
)

// errNoTakeover: no other key can sign once the revoked one stops.
var errNoTakeover = errors.New("no other key can take over signing")

// runKeysRevoke kills a signing key: it marks the key revoked_at in the
// serve config (so the service stops signing with it at its next reload,
// SIGHUP or reload_interval), brings forward the activation of the key
// that takes over when no other key is active, and prints the Terraform
// change that removes the key from the key group, after which CloudFront
// rejects everything it signed. It refuses, writing nothing, when no other
// key in the key group can sign every behavior's longest validity now. It
// reads no key source, so it runs wherever the config is edited (a
// checkout, CI).
func runKeysRevoke(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "keys revoke", "keys revoke KEY_ID --config FILE [--behaviors FILE] [--public-key-ids FILE] [--at TIME] [--dry-run]")
	configFile := fs.String("config", "", "the serve config to edit (env CFISSUER_CONFIG)")
	behaviorsFile := fs.String("behaviors", "", "behaviors file (default: the config's); gives L and the key group's key_ids")
	idsFile := fs.String("public-key-ids", "", "the JSON of `terraform output -json public_key_ids`, to name the key's public_keys entry")
	at := fs.String("at", "", "revoke as of this time (RFC 3339; default now)")
	dryRun := fs.Bool("dry-run", false, "print the changes, write nothing")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: give one KEY_ID", errUsage)
	}
	keyID := pos[0]
	if *configFile == "" {
		*configFile = e.getenv("CFISSUER_CONFIG")
	}
	if *configFile == "" {
		return fmt.Errorf("%w: --config FILE is required", errUsage)
	}
	now := e.now().UTC().Truncate(time.Second)
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return fmt.Errorf("%w: --at: %v", errUsage, err)
		}
		now = now.UTC()
	}
	raw, err := os.ReadFile(*configFile)
	if err != nil {
		return err
	}
	cfg, bs, bpath, err := configAndBehaviors(*configFile, raw, *behaviorsFile)
	if err != nil {
		return err
	}
	idx := slices.IndexFunc(cfg.Keys, func(k KeyConfig) bool { return k.ID == keyID })
	switch {
	case idx < 0:
		return fmt.Errorf("key %s is not in %s", keyID, *configFile)
	case cfg.Keys[idx].RevokedAt != nil:
		return fmt.Errorf("key %s is already revoked (revoked_at %s)", keyID, cfg.Keys[idx].RevokedAt.UTC().Format(time.RFC3339))
	}
	take, activate, err := takeover(cfg.Keys, idx, issuer.LongestLifetime(bs), bs.KeyIDs, now)
	if err != nil {
		return err
	}

	edited, err := editKeys(raw, map[string]map[string]string{
		keyID: {"revoked_at": now.Format(time.RFC3339)},
	}, activate, cfg.Keys[take].ID, now)
	if err != nil {
		return fmt.Errorf("edit %s: %w", *configFile, err)
	}
	check, err := ParseServeConfig(bytes.NewReader(edited))
	if err == nil {
		check.SetDefaults()
		check.Behaviors = bpath
		err = check.Validate()
	}
	if err != nil {
		return fmt.Errorf("the edited config does not validate, nothing written: %w", err)
	}

	w := e.stdout
	verb := "Changed"
	if *dryRun {
		verb = "Would change (--dry-run: nothing written)"
	}
	fmt.Fprintf(w, "%s in %s:\n", verb, *configFile)
	fmt.Fprintf(w, "  keys[%d] %s: revoked_at: %s   (never loaded again: it signs nothing from the next reload)\n", idx, keyID, now.Format(time.RFC3339))
	if activate {
		fmt.Fprintf(w, "  keys[%d] %s: activate_at: %s   (was next: already in the key group, so it can sign at once)\n", take, cfg.Keys[take].ID, now.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "New grants are signed by %s.\n", cfg.Keys[take].ID)
	if !*dryRun {
		mode := os.FileMode(0o600)
		if st, err := os.Stat(*configFile); err == nil {
			mode = st.Mode().Perm()
		}
		if err := writeFileAtomic(*configFile, edited, mode); err != nil {
			return err
		}
	}

	fmt.Fprintf(w, "\n1. Stop signing with %s now: reload every replica with this config.\n", keyID)
	fmt.Fprintf(w, "   kill -HUP <pid of cfissuer serve>    # or wait reload_interval; replicas with a copy of the config need the new copy first\n")
	fmt.Fprintf(w, "   curl -s <issuer>/v1/keys             # %s is gone; %s has \"signing\": true\n", keyID, cfg.Keys[take].ID)
	fmt.Fprintf(w, "   A reload that fails (log \"reload failed\", cfissuer_reload_failing 1) keeps the old keys, %s included: fix it before going on.\n", keyID)
	if err := printKeyGroupChange(w, keyID, *idsFile, bs.KeyIDs); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n3. Destroy the private key of %s (%s): it must never sign again.\n", keyID, cfg.Keys[idx].sourceName())
	return nil
}

// takeover returns the index of the key that signs once keys[revoked]
// stops, and whether its activate_at must be brought forward to now: an
// active key that can sign the longest validity (it does not retire
// within L) if there is one, else the next key to activate. A next key is
// published (already in CloudFront's key group), so it can sign at once.
// With a non-empty key group (the behaviors file's key_ids), the key must
// be in it.
func takeover(ks []KeyConfig, revoked int, longest time.Duration, group []string, now time.Time) (int, bool, error) {
	signsUntil := func(k KeyConfig) bool { return k.RetireAt == nil || now.Before(k.RetireAt.Add(-longest)) }
	inGroup := func(k KeyConfig) bool { return len(group) == 0 || slices.Contains(group, k.ID) }
	activation := func(i int) time.Time { // zero: active since forever
		if ks[i].ActivateAt == nil {
			return time.Time{}
		}
		return *ks[i].ActivateAt
	}
	best, next := -1, -1
	for i, k := range ks {
		if i == revoked || k.RevokedAt != nil || !signsUntil(k) || !inGroup(k) {
			continue
		}
		switch {
		case !now.Before(activation(i)):
			if best < 0 || activation(i).After(activation(best)) {
				best = i // the active key activated last, as keys.Ring.Current picks
			}
		case next < 0 || activation(i).Before(activation(next)):
			next = i
		}
	}
	switch {
	case best >= 0:
		return best, false, nil
	case next >= 0:
		return next, true, nil
	}
	hint := ""
	if len(group) > 0 {
		hint = fmt.Sprintf(" (the key group holds %s)", strings.Join(group, ", "))
	}
	return 0, false, fmt.Errorf("%w: every other key is revoked, retires within L = %s, or is not in the key group%s. "+
		"Add a key first (cfissuer keygen; Terraform public_keys; apply; keys: in the config), then revoke; nothing was written", errNoTakeover, longest, hint)
}

// editKeys returns the config with fields set on keys (by ID), and
// activate_at set to now on the key takeID when activate is true. It edits
// the YAML tree, so comments and the order of fields survive.
func editKeys(raw []byte, set map[string]map[string]string, activate bool, takeID string, now time.Time) ([]byte, error) {
	if activate {
		set[takeID] = map[string]string{"activate_at": now.Format(time.RFC3339)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("the config is not a mapping")
	}
	seq := mapValue(doc.Content[0], "keys")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil, errors.New("keys is not a list")
	}
	done := 0
	for _, item := range seq.Content {
		if item.Kind != yaml.MappingNode {
			continue
		}
		id := mapValue(item, "id")
		if id == nil {
			continue
		}
		fields, ok := set[id.Value]
		if !ok {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(fields)) {
			if v := mapValue(item, name); v != nil {
				v.Kind, v.Tag, v.Value, v.Style = yaml.ScalarNode, "", fields[name], 0
				continue
			}
			item.Content = append(item.Content,
				&yaml.Node{Kind: yaml.ScalarNode, Value: name},
				&yaml.Node{Kind: yaml.ScalarNode, Value: fields[name]})
		}
		done++
	}
	if done != len(set) {
		return nil, errors.New("a key to edit was not found by its id")
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// printKeyGroupChange prints the Terraform change that removes keyID from
// the distribution's key group (the module's public_keys variable).
func printKeyGroupChange(w io.Writer, keyID, idsFile string, group []string) error {
	name := ""
	if idsFile != "" {
		data, err := os.ReadFile(idsFile)
		if err != nil {
			return err
		}
		var ids map[string]string
		if err := json.Unmarshal(data, &ids); err != nil {
			return fmt.Errorf("--public-key-ids: %s is not `terraform output -json public_key_ids`: %w", idsFile, err)
		}
		for n, id := range ids {
			if id == keyID {
				name = n
			}
		}
		if name == "" {
			return fmt.Errorf("--public-key-ids: no public_keys entry has ID %s (is it already removed?)", keyID)
		}
	}
	fmt.Fprintf(w, "\n2. Remove %s from the key group: CloudFront then answers 403 to everything it signed, once the\n", keyID)
	fmt.Fprintf(w, "   distribution has deployed (minutes). In the Terraform module's public_keys:\n")
	if name != "" {
		fmt.Fprintf(w, "\n     public_keys = {\n-      %q = …   # %s: delete this entry\n       …\n     }\n\n", name, keyID)
	} else {
		fmt.Fprintf(w, "\n     delete the entry whose public key ID is %s; its name is\n", keyID)
		fmt.Fprintf(w, "     terraform output -json public_key_ids | jq -r 'to_entries[] | select(.value == %q) | .key'\n\n", keyID)
	}
	label := name
	if label == "" {
		label = "NAME"
	}
	fmt.Fprintf(w, "   terraform plan    # expect: ~ aws_cloudfront_key_group.this (items loses %s), - aws_cloudfront_public_key.this[%q]\n", keyID, label)
	fmt.Fprintf(w, "   terraform apply   # the key group is updated before the key is deleted (create_before_destroy)\n")
	fmt.Fprintf(w, "   terraform output -raw issuer_config > behaviors.json   # key_ids without %s; then reload the issuer again\n", keyID)
	if len(group) > 0 && !slices.Contains(group, keyID) {
		fmt.Fprintf(w, "   (The behaviors file's key_ids already lack %s: check that CloudFront's key group does too.)\n", keyID)
	}
	return nil
}
