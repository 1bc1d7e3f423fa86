package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/example/zuora-runstatus/handler"
	"github.com/example/zuora-runstatus/internal/alert"
	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/statestore"
	"github.com/example/zuora-runstatus/internal/topic"
	"github.com/example/zuora-runstatus/internal/trigger"
	"github.com/example/zuora-runstatus/zuora"
)

// Defaults of the optional variables.
const (
	defaultAlertOn          = zuora.Failed
	defaultBatchConcurrency = 32
	defaultFunctionName     = "runstatus" // outside Lambda
	// concurrencyCap bounds BATCH_CONCURRENCY: more calls in flight than a
	// batch has meters would never be used.
	concurrencyCap = trigger.MaxBatch
)

// settings is the function's configuration, read from the environment once
// per container. The AWS SDK reads its own variables (AWS_REGION,
// credentials, AWS_ENDPOINT_URL...) in loadAWSConfig.
type settings struct {
	baseURL    string // ZUORA_BASE_URL, as zuora.ValidateBaseURL returns it
	secretID   string // ZUORA_SECRET_ID
	stateTable string // STATE_TABLE, a table name or ARN; "" for no memory
	calloutID  string // CALLOUT_SECRET_ID; "" refuses callouts
	handler    handler.Config
}

// ConfigError names the variable that is wrong and why, so the one log line
// written at start-up tells an operator what to fix.
type ConfigError struct {
	Variable string
	Problem  string
}

func (e *ConfigError) Error() string { return e.Variable + ": " + e.Problem }

// configError names a variable in err; a Zuora validation error gives its
// message without the package's prefix.
func configError(variable string, err error) *ConfigError {
	var ze *zuora.Error
	if errors.As(err, &ze) {
		return &ConfigError{variable, ze.Message}
	}
	return &ConfigError{variable, err.Error()}
}

var errRequired = errors.New("is required")

// loadSettings reads each of the function's own variables once, applies
// each default once, and names the first bad variable.
func loadSettings(getenv func(string) string) (settings, error) {
	env := func(name string) string { return strings.TrimSpace(getenv(name)) }
	for _, name := range []string{"ZUORA_BASE_URL", "ZUORA_SECRET_ID", "ALERT_TOPIC_ARN"} {
		if env(name) == "" {
			return settings{}, configError(name, errRequired)
		}
	}
	var s settings
	var err error
	if s.baseURL, err = zuora.ValidateBaseURL(env("ZUORA_BASE_URL")); err != nil {
		return settings{}, configError("ZUORA_BASE_URL", err)
	}
	s.secretID = env("ZUORA_SECRET_ID")
	if err := loadChecks(env, &s.handler); err != nil {
		return settings{}, err
	}
	if err := loadMemory(env, &s); err != nil {
		return settings{}, err
	}
	return s, nil
}

// loadChecks reads what every check uses: the topic, ALERT_ON, the meters a
// schedule checks, the Zuora scoping headers and the batch concurrency.
func loadChecks(env func(string) string, h *handler.Config) error {
	var err error
	if h.TopicARN = env("ALERT_TOPIC_ARN"); !topic.IsARN(h.TopicARN) {
		return configError("ALERT_TOPIC_ARN", fmt.Errorf("%q is not an SNS topic ARN", h.TopicARN))
	}
	if h.AlertOn, err = parseAlertOn(env("ALERT_ON")); err != nil {
		return configError("ALERT_ON", err)
	}
	if h.WatchMeters, err = parseWatchMeters(env("WATCH_METERS")); err != nil {
		return configError("WATCH_METERS", err)
	}
	// The header defaults go through the same checks as a caller's overrides.
	h.EntityIDs, h.OrgIDs = env("ZUORA_ENTITY_IDS"), env("ZUORA_ORG_IDS")
	if err := zuora.ValidateEntityIDs(h.EntityIDs); err != nil {
		return configError("ZUORA_ENTITY_IDS", err)
	}
	if err := zuora.ValidateOrgIDs(h.OrgIDs); err != nil {
		return configError("ZUORA_ORG_IDS", err)
	}
	if h.BatchConcurrency, err = parseConcurrency(env("BATCH_CONCURRENCY")); err != nil {
		return configError("BATCH_CONCURRENCY", err)
	}
	// Lambda sets it; the metrics' Function dimension.
	h.FunctionName = cmp.Or(env("AWS_LAMBDA_FUNCTION_NAME"), defaultFunctionName)
	return nil
}

// loadMemory reads STATE_TABLE and the settings that only mean something
// with it.
func loadMemory(env func(string) string, s *settings) error {
	h := &s.handler
	if s.stateTable = env("STATE_TABLE"); s.stateTable != "" && !statestore.IsTableName(s.stateTable) {
		return configError("STATE_TABLE", fmt.Errorf("%q is not a DynamoDB table name or ARN", s.stateTable))
	}
	var err error
	if h.RepeatAfter, err = parseRepeatAfter(env("ALERT_REPEAT_AFTER")); err != nil {
		return configError("ALERT_REPEAT_AFTER", err)
	}
	if s.stateTable != "" && slices.Contains(h.AlertOn, zuora.Unknown) {
		return configError("ALERT_ON", errors.New("UNKNOWN cannot raise an alert with STATE_TABLE: an unknown status never changes the memory (it is counted as UnknownStatus instead)"))
	}
	if h.RepeatAfter > 0 && s.stateTable == "" {
		return configError("ALERT_REPEAT_AFTER", errors.New("needs STATE_TABLE: reminders need to know when the last alert went out"))
	}
	h.NotifyResolved = true
	if v := env("NOTIFY_RESOLVED"); v != "" {
		if h.NotifyResolved, err = strconv.ParseBool(v); err != nil {
			return configError("NOTIFY_RESOLVED", fmt.Errorf("%q is not true or false", v))
		}
	}
	if s.calloutID = env("CALLOUT_SECRET_ID"); s.calloutID != "" && s.stateTable == "" {
		return configError("CALLOUT_SECRET_ID", errors.New("needs STATE_TABLE: callouts are deduplicated and kept by session in it"))
	}
	if err := loadStuck(env, h, s.stateTable != ""); err != nil {
		return err
	}
	return loadAlerts(env, h)
}

// Defaults and bounds of stuck runs.
const (
	defaultStuckFactor = 3
	minStuckAfter      = time.Second
	maxStuckFactor     = 100
)

// loadStuck reads STUCK_AFTER (empty: stuck runs off) and STUCK_FACTOR.
func loadStuck(env func(string) string, h *handler.Config, memory bool) error {
	h.StuckFactor = defaultStuckFactor
	if v := env("STUCK_FACTOR"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 1 && f <= maxStuckFactor) { // NaN fails every comparison
			return configError("STUCK_FACTOR", fmt.Errorf("%q is not a number from 1 to %d", v, maxStuckFactor))
		}
		h.StuckFactor = f
	}
	v := env("STUCK_AFTER")
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil || d < minStuckAfter:
		return configError("STUCK_AFTER", fmt.Errorf("%q is not a Go duration of a second or more (e.g. 6h), or empty", v))
	case !memory:
		return configError("STUCK_AFTER", errors.New("needs STATE_TABLE: a run's start and the meter's usual run are kept in it"))
	}
	h.StuckAfter = d
	return nil
}

// loadAlerts reads what the messages say besides the result: the link,
// and whether Zuora is asked why a run failed; and whether the dashboard
// widget's buttons act.
func loadAlerts(env func(string) string, h *handler.Config) error {
	if h.AlertLink = env("ALERT_LINK"); h.AlertLink != "" && !alert.IsLinkTemplate(h.AlertLink) {
		return configError("ALERT_LINK", fmt.Errorf("%q is not an https:// URL (with {meterId}, {version} or {sessionId} to fill in), of at most %d characters", truncate(h.AlertLink, 60), alert.MaxLinkTemplate))
	}
	h.AlertDetails = true
	if v := env("ALERT_DETAILS"); v != "" {
		var err error
		if h.AlertDetails, err = strconv.ParseBool(v); err != nil {
			return configError("ALERT_DETAILS", fmt.Errorf("%q is not true or false", v))
		}
	}
	if v := env("WIDGET_ACTIONS"); v != "" {
		var err error
		if h.WidgetActions, err = strconv.ParseBool(v); err != nil {
			return configError("WIDGET_ACTIONS", fmt.Errorf("%q is not true or false", v))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func parseRepeatAfter(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err == nil && d == 0 { // "0", "0s", "0h": off
		return 0, nil
	}
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("%q is not a Go duration of a minute or more (e.g. 24h), or 0", v)
	}
	return d, nil
}

func parseConcurrency(v string) (int, error) {
	if v == "" {
		return defaultBatchConcurrency, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > concurrencyCap {
		return 0, fmt.Errorf("%q is not a whole number from 1 to %d", v, concurrencyCap)
	}
	return n, nil
}

func parseAlertOn(v string) ([]string, error) {
	if v == "" {
		return []string{defaultAlertOn}, nil
	}
	var names []string
	for part := range strings.SplitSeq(v, ",") {
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
func parseWatchMeters(v string) ([]memory.Meter, error) {
	var meters []memory.Meter
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, version, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not meterId:version", part)
		}
		m, err := trigger.ParseMeter(id, version)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", part, err)
		}
		meters = append(meters, m)
	}
	if len(meters) > trigger.MaxBatch {
		return nil, fmt.Errorf("lists %d meters; at most %d", len(meters), trigger.MaxBatch)
	}
	return meters, nil
}
