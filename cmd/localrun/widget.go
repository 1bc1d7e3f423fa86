package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/example/zuora-runstatus/internal/localstack"
	"github.com/example/zuora-runstatus/internal/widget/browsertest"
)

// widgetWidth is the screenshot's width: a dashboard widget 12 of 24
// columns wide on a common screen, as the template's dashboard places it.
const widgetWidth = 920

// sendWidget invokes the function as the dashboard's custom widget does
// (events/cloudwatch-widget.json, with the light theme as well as the
// sample's dark one), once the scenarios have filled the watch list, and
// writes its HTML to dir — with a screenshot of each when a Chromium is
// there — and prints where.
func sendWidget(ctx context.Context, s *localstack.Stack, eventsDir, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, invokeTimeout)
	defer cancel()
	raw, err := os.ReadFile(filepath.Join(eventsDir, "cloudwatch-widget.json"))
	if err != nil {
		return err
	}
	if err := watchForWidget(ctx, s); err != nil {
		return err
	}
	_, noBrowser := browsertest.Find()
	for _, theme := range []string{"dark", "light"} {
		html, err := widgetHTML(ctx, s, raw, theme)
		if err != nil {
			return err
		}
		path := filepath.Join(dir, "widget-"+theme+".html")
		if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
			return err
		}
		fmt.Printf("== the dashboard's watch-list widget (%s theme, %d bytes of HTML): %s\n", theme, len(html), path)
		if noBrowser != nil {
			fmt.Printf("   no screenshot: %v\n", noBrowser)
			continue
		}
		png, err := browsertest.Screenshot(ctx, html, theme, widgetWidth)
		if err != nil {
			return fmt.Errorf("screenshot: %w", err)
		}
		path = filepath.Join(dir, "widget-"+theme+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			return err
		}
		fmt.Printf("   its screenshot in headless Chromium, %d px wide: %s\n", widgetWidth, path)
	}
	fmt.Println()
	return nil
}

// watchForWidget puts the meters the scenarios paged for on the watch
// list (a failure by callout, a stuck run, the one paged after its mute),
// and mutes one, so that the widget shows each kind of row; it prints the
// mute, which changes what that meter pages.
func watchForWidget(ctx context.Context, s *localstack.Stack) error {
	meters := []string{"105/0.1.0", "106/0.0.1", "108/0.0.1", "110/0.0.1"}
	for _, m := range meters {
		if err := callHTTP(ctx, s, "PUT", "/meters/"+m+"/watch", "", false); err != nil {
			return err
		}
	}
	fmt.Printf("== for the widget: meters %s put on the watch list, and one muted:\n", strings.Join(meters, ", "))
	until := time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)
	return sendHTTP(ctx, s, "PUT", "/meters/106/0.0.1/mute", `{"until": "`+until+`", "reason": "storage vendor maintenance <CHG-4820>"}`)
}

// widgetHTML is the widget's answer to the sample call, in theme.
func widgetHTML(ctx context.Context, s *localstack.Stack, raw []byte, theme string) (string, error) {
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		return "", err
	}
	if wc, ok := ev["widgetContext"].(map[string]any); ok {
		wc["theme"] = theme
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return "", err
	}
	r, err := s.Invoke(ctx, payload)
	if err != nil {
		return "", err
	}
	var html string
	if r.Failed() || json.Unmarshal(r.Body, &html) != nil {
		return "", errors.New("the widget answered " + r.ErrorType + ": " + r.ErrorMessage + string(r.Body))
	}
	return html, nil
}
