package handler

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/example/zuora-runstatus/internal/memory"
)

// Config is what the handler needs to know of the function's configuration.
// The bootstrap reads it from the environment once per container and applies
// the defaults; New checks it.
type Config struct {
	TopicARN         string         // ALERT_TOPIC_ARN
	AlertOn          []string       // ALERT_ON, status names
	WatchMeters      []memory.Meter // WATCH_METERS
	EntityIDs        string         // ZUORA_ENTITY_IDS
	OrgIDs           string         // ZUORA_ORG_IDS
	BatchConcurrency int            // BATCH_CONCURRENCY, at least 1
	FunctionName     string         // AWS_LAMBDA_FUNCTION_NAME: the metrics' Function dimension

	// With a Store only:
	RepeatAfter    time.Duration // ALERT_REPEAT_AFTER: reminders while an alert stays open; 0 for none
	NotifyResolved bool          // NOTIFY_RESOLVED: publish a resolution when an open alert closes

	AlertLink    string // ALERT_LINK: a link template for messages ({meterId}, {version}, {sessionId}); "" for none
	AlertDetails bool   // ALERT_DETAILS: explain alerts of failed runs with Zuora's summary and audit trail

	// With a Store only: stuck runs (STUCK_AFTER, 0 for off; STUCK_FACTOR).
	StuckAfter  time.Duration
	StuckFactor float64

	// WidgetActions (WIDGET_ACTIONS): the dashboard widget's buttons check
	// and mute meter versions; off, a button's call is refused.
	WidgetActions bool
}

func (c Config) validate() error {
	if c.TopicARN == "" {
		return errors.New("handler: Config.TopicARN is required")
	}
	if c.FunctionName == "" {
		return errors.New("handler: Config.FunctionName is required")
	}
	if c.BatchConcurrency < 1 {
		return fmt.Errorf("handler: Config.BatchConcurrency is %d; it must be at least 1", c.BatchConcurrency)
	}
	return nil
}

func (c Config) alertsOn(status string) bool { return slices.Contains(c.AlertOn, status) }

// rules are the memory's rules of this configuration.
func (c Config) rules() memory.Rules {
	return memory.Rules{AlertOn: c.AlertOn, RepeatAfter: c.RepeatAfter, NotifyResolved: c.NotifyResolved,
		StuckAfter: c.StuckAfter, StuckFactor: c.StuckFactor}
}
