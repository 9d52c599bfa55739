package seatkeeper

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Settings are an account's settings (SPEC §5).
type Settings struct {
	QM         QMSettings         `json:"qm"`
	Concurrent ConcurrentSettings `json:"concurrent"`
}

// QMSettings is the Quality Management section; editing it needs
// account.settings.edit (R13).
type QMSettings struct {
	AnalyzeRecordings            bool         `json:"analyze_recordings"`
	TrackSilence                 bool         `json:"track_silence"`
	SilenceThresholdSeconds      int          `json:"silence_threshold_seconds"`
	TrackCrosstalk               bool         `json:"track_crosstalk"`
	CrosstalkThresholdSeconds    int          `json:"crosstalk_threshold_seconds"`
	Topics                       []PhraseList `json:"topics"`
	Indicators                   []PhraseList `json:"indicators"`
	ScreenRecording              bool         `json:"screen_recording"`
	ScreenRecordingRetentionDays int          `json:"screen_recording_retention_days"`
	RecordingBanner              bool         `json:"recording_banner"`
	VoiceExclusion               string       `json:"voice_exclusion"`
}

// PhraseList is a named list of phrases (a QM topic or indicator).
type PhraseList struct {
	Name    string   `json:"name"`
	Phrases []string `json:"phrases"`
}

// ConcurrentSettings governs presence in concurrent pools (R5, R6).
type ConcurrentSettings struct {
	SessionTimeout   Duration `json:"session_timeout"`
	PortalIdleWindow Duration `json:"portal_idle_window"`
}

// DefaultSettings are a new account's settings.
func DefaultSettings() Settings {
	return Settings{
		QM: QMSettings{
			SilenceThresholdSeconds: 10, CrosstalkThresholdSeconds: 3,
			Topics: []PhraseList{}, Indicators: []PhraseList{},
			ScreenRecordingRetentionDays: 90, VoiceExclusion: "none",
		},
		Concurrent: ConcurrentSettings{
			SessionTimeout:   Duration(180 * time.Second),
			PortalIdleWindow: Duration(5 * time.Minute),
		},
	}
}

// Bools returns the boolean settings by key, as the decision engine reads
// them (catalog.BoolSettings).
func (s Settings) Bools() map[string]bool {
	return map[string]bool{
		"qm.analyze_recordings": s.QM.AnalyzeRecordings,
		"qm.track_silence":      s.QM.TrackSilence,
		"qm.track_crosstalk":    s.QM.TrackCrosstalk,
		"qm.screen_recording":   s.QM.ScreenRecording,
		"qm.recording_banner":   s.QM.RecordingBanner,
	}
}

// Validate reports every field out of range.
func (s Settings) Validate() error {
	var fields []FieldError
	bad := func(field, format string, args ...any) {
		fields = append(fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	q := s.QM
	if q.SilenceThresholdSeconds < 1 || q.SilenceThresholdSeconds > 600 {
		bad("qm.silence_threshold_seconds", "must be from 1 to 600")
	}
	if q.CrosstalkThresholdSeconds < 1 || q.CrosstalkThresholdSeconds > 600 {
		bad("qm.crosstalk_threshold_seconds", "must be from 1 to 600")
	}
	if q.ScreenRecordingRetentionDays < 1 || q.ScreenRecordingRetentionDays > 2555 {
		bad("qm.screen_recording_retention_days", "must be from 1 to 2555")
	}
	switch q.VoiceExclusion {
	case "none", "inbound", "outbound", "all":
	default:
		bad("qm.voice_exclusion", "must be none, inbound, outbound or all")
	}
	for field, lists := range map[string][]PhraseList{"qm.topics": q.Topics, "qm.indicators": q.Indicators} {
		if len(lists) > 500 {
			bad(field, "at most 500 lists")
		}
		names := map[string]bool{}
		for i, l := range lists {
			switch {
			case l.Name == "" || len(l.Name) > 128:
				bad(fmt.Sprintf("%s[%d].name", field, i), "must be 1 to 128 characters")
			case names[l.Name]:
				bad(fmt.Sprintf("%s[%d].name", field, i), "%q is used twice", l.Name)
			}
			names[l.Name] = true
			if len(l.Phrases) > 500 {
				bad(fmt.Sprintf("%s[%d].phrases", field, i), "at most 500 phrases")
			}
			for j, ph := range l.Phrases {
				if ph == "" || len(ph) > 256 || !PlainText(ph) {
					bad(fmt.Sprintf("%s[%d].phrases[%d]", field, i, j), "must be 1 to 256 characters, without control characters")
					break
				}
			}
		}
	}
	c := s.Concurrent
	if t := time.Duration(c.SessionTimeout); t < time.Minute || t > 24*time.Hour || t%time.Second != 0 {
		bad("concurrent.session_timeout", "must be whole seconds from 60s to 24h")
	}
	if w := time.Duration(c.PortalIdleWindow); w < time.Minute || w > 24*time.Hour || w%time.Second != 0 {
		bad("concurrent.portal_idle_window", "must be whole seconds from 1m to 24h")
	}
	if len(fields) > 0 {
		return &Error{Code: EInvalid, Message: "invalid settings", Fields: fields}
	}
	return nil
}

// ApplyPatch applies a JSON merge patch (RFC 7396) to the settings and
// returns the validated result. Unknown fields are refused.
func (s Settings) ApplyPatch(patch []byte) (Settings, error) {
	var p any
	if err := json.Unmarshal(patch, &p); err != nil {
		return s, Errorf(EInvalid, "the body is not JSON: %v", err)
	}
	if _, ok := p.(map[string]any); !ok {
		return s, Errorf(EInvalid, "a settings patch is a JSON object")
	}
	cur, _ := json.Marshal(s)
	var doc any
	_ = json.Unmarshal(cur, &doc)
	if path := unknownKey(doc, p, ""); path != "" {
		return s, &Error{Code: EInvalid, Message: "invalid settings: unknown field " + path,
			Fields: []FieldError{{Field: path, Message: "no such setting (names are lower case)"}}}
	}
	merged, _ := json.Marshal(mergePatch(doc, p))
	var out Settings
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return s, Errorf(EInvalid, "invalid settings: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	for _, lists := range []*[]PhraseList{&out.QM.Topics, &out.QM.Indicators} {
		if *lists == nil {
			*lists = []PhraseList{}
		}
		for i := range *lists {
			if (*lists)[i].Phrases == nil {
				(*lists)[i].Phrases = []string{}
			}
		}
	}
	return out, out.Validate()
}

// mergePatch is RFC 7396: objects merge key by key, null removes, anything
// else replaces.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// unknownKey returns the path of the first key of patch that the settings
// document does not have, matched exactly (encoding/json alone would match
// "QM" to "qm"), or "".
func unknownKey(doc, patch any, prefix string) string {
	p, ok := patch.(map[string]any)
	if !ok {
		return ""
	}
	d, _ := doc.(map[string]any)
	for k, v := range p {
		dv, known := d[k]
		if !known {
			return prefix + k
		}
		if path := unknownKey(dv, v, prefix+k+"."); path != "" {
			return path
		}
	}
	return ""
}
