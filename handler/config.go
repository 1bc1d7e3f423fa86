package handler

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/example/zuora-runstatus/zuora"
)

// Limits of the contract.
const (
	MaxBatch                = 500 // meters in one batch or in WATCH_METERS
	DefaultBatchConcurrency = 32
)

// Config is the function's configuration, read once per container.
type Config struct {
	BaseURL          string   // ZUORA_BASE_URL
	SecretID         string   // ZUORA_SECRET_ID
	TopicARN         string   // ALERT_TOPIC_ARN
	AlertOn          []string // ALERT_ON, status names
	WatchMeters      []Meter  // WATCH_METERS
	EntityIDs        string   // ZUORA_ENTITY_IDS
	OrgIDs           string   // ZUORA_ORG_IDS
	BatchConcurrency int      // BATCH_CONCURRENCY
}

// Meter names one meter version.
type Meter struct {
	MeterID int64  `json:"meterId"`
	Version string `json:"version"`
}

// ConfigError names the variable that is wrong and why, so the one log line
// written at start-up tells an operator what to fix.
type ConfigError struct {
	Variable string
	Problem  string
}

func (e *ConfigError) Error() string { return e.Variable + ": " + e.Problem }

// isTopicARN reports whether s is an SNS topic ARN,
// arn:aws…:sns:{region}:{12-digit account}:{name}[.fifo], with a name of 1 to
// 256 letters, digits, "_" and "-". It is written out rather than as a
// regexp: counted repetitions compile into a copy of their class per count,
// and the pattern took 0.1–1.2 ms of every cold start.
func isTopicARN(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" {
		return false
	}
	partition, region, account, name := parts[1], parts[3], parts[4], strings.TrimSuffix(parts[5], ".fifo")
	return strings.HasPrefix(partition, "aws") && only(partition[3:], isLowerOrDash) &&
		region != "" && only(region, func(c byte) bool { return isLowerOrDash(c) || isDigit(c) }) &&
		len(account) == 12 && only(account, isDigit) &&
		name != "" && len(name) <= 256 && only(name, func(c byte) bool {
		return isLowerOrDash(c) || isDigit(c) || c == '_' || c >= 'A' && c <= 'Z'
	})
}

func only(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isLowerOrDash(c byte) bool { return c >= 'a' && c <= 'z' || c == '-' }
func isDigit(c byte) bool       { return c >= '0' && c <= '9' }

// LoadConfig reads and checks the configuration from getenv (os.Getenv in
// production). The Zuora base URL is checked by zuora.New, which owns its rules.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		BaseURL:   strings.TrimSpace(getenv("ZUORA_BASE_URL")),
		SecretID:  strings.TrimSpace(getenv("ZUORA_SECRET_ID")),
		TopicARN:  strings.TrimSpace(getenv("ALERT_TOPIC_ARN")),
		EntityIDs: strings.TrimSpace(getenv("ZUORA_ENTITY_IDS")),
		OrgIDs:    strings.TrimSpace(getenv("ZUORA_ORG_IDS")),
	}
	for _, req := range []struct{ name, value string }{
		{"ZUORA_BASE_URL", c.BaseURL}, {"ZUORA_SECRET_ID", c.SecretID}, {"ALERT_TOPIC_ARN", c.TopicARN},
	} {
		if req.value == "" {
			return Config{}, &ConfigError{req.name, "is required"}
		}
	}
	if !isTopicARN(c.TopicARN) {
		return Config{}, &ConfigError{"ALERT_TOPIC_ARN", fmt.Sprintf("%q is not an SNS topic ARN", c.TopicARN)}
	}

	alertOn, err := parseAlertOn(getenv("ALERT_ON"))
	if err != nil {
		return Config{}, &ConfigError{"ALERT_ON", err.Error()}
	}
	c.AlertOn = alertOn

	if c.WatchMeters, err = parseWatchMeters(getenv("WATCH_METERS")); err != nil {
		return Config{}, &ConfigError{"WATCH_METERS", err.Error()}
	}

	// The header defaults go through the same checks as a caller's overrides.
	if err := zuora.ValidateEntityIDs(c.EntityIDs); err != nil {
		return Config{}, &ConfigError{"ZUORA_ENTITY_IDS", err.Error()}
	}
	if err := zuora.ValidateOrgIDs(c.OrgIDs); err != nil {
		return Config{}, &ConfigError{"ZUORA_ORG_IDS", err.Error()}
	}

	c.BatchConcurrency = DefaultBatchConcurrency
	if v := strings.TrimSpace(getenv("BATCH_CONCURRENCY")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxBatch {
			return Config{}, &ConfigError{"BATCH_CONCURRENCY", fmt.Sprintf("%q is not a whole number from 1 to %d", v, MaxBatch)}
		}
		c.BatchConcurrency = n
	}
	return c, nil
}

func parseAlertOn(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return []string{zuora.Failed}, nil
	}
	var names []string
	for _, part := range strings.Split(v, ",") {
		name := strings.ToUpper(strings.TrimSpace(part))
		if name == "" {
			continue
		}
		if !zuora.IsStatusName(name) {
			return nil, fmt.Errorf("%q is not a status name (one of %s)", name, strings.Join(zuora.StatusNames(), ", "))
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%q names no status", v)
	}
	return names, nil
}

// parseWatchMeters reads "123:0.0.1,456:0.0.2".
func parseWatchMeters(v string) ([]Meter, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var meters []Meter
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, version, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not meterId:version", part)
		}
		m, err := newMeter(id, version)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		meters = append(meters, m)
	}
	if len(meters) > MaxBatch {
		return nil, fmt.Errorf("lists %d meters; at most %d", len(meters), MaxBatch)
	}
	return meters, nil
}

func (c Config) alertsOn(status string) bool {
	for _, s := range c.AlertOn {
		if s == status {
			return true
		}
	}
	return false
}
