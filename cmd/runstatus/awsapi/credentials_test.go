package awsapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// credentialsEndpoint serves role credentials as the container credentials
// endpoint does, to callers presenting token, with the given lifetime.
func credentialsEndpoint(t *testing.T, token string, lifetime time.Duration, creds aws.Credentials) (url string, hits *atomic.Int32) {
	hits = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != token {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"code":"AccessDenied","message":"bad token"}`))
			return
		}
		hits.Add(1)
		json.NewEncoder(w).Encode(map[string]string{
			"AccessKeyId":     creds.AccessKeyID,
			"SecretAccessKey": creds.SecretAccessKey,
			"Token":           creds.SessionToken,
			"Expiration":      time.Now().Add(lifetime).UTC().Format(time.RFC3339),
		})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1/credentials", hits
}

// Without the keys in the environment, credentials come from the container
// endpoint, with the token read from its file, and are reused until 5 minutes
// before they expire.
func TestContainerCredentials(t *testing.T) {
	role := aws.Credentials{AccessKeyID: "ASIACONTAINER", SecretAccessKey: "container-secret", SessionToken: "container-session"}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		lifetime time.Duration
		env      []string
		calls    int
		fetches  int32
	}{
		{"token from the file, 1 h credentials", time.Hour, []string{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokenFile}, 3, 1},
		{"token from the variable, credentials within the 5 min window", 4 * time.Minute, []string{"AWS_CONTAINER_AUTHORIZATION_TOKEN", "file-token"}, 3, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			endpoint, hits := credentialsEndpoint(t, "file-token", tt.lifetime, role)
			srv := newWireServer(t)
			env := append([]string{"AWS_REGION", testRegion, "AWS_ACCESS_KEY_ID", "", "AWS_SECRET_ACCESS_KEY", "", "AWS_SESSION_TOKEN", "",
				"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint, "AWS_ENDPOINT_URL", srv.URL}, tt.env...)
			cfg, err := FromEnv(lambdaEnv(env...))
			if err != nil {
				t.Fatal(err)
			}
			c := New(cfg)
			for i := 0; i < tt.calls; i++ {
				srv.answer(200, nil, []byte(secretOK))
				if _, err := c.SecretString(context.Background(), "s"); err != nil {
					t.Fatal(err)
				}
				checkSignedBy(t, "ours", srv.last(t), "secretsmanager", role)
			}
			if got := hits.Load(); got != tt.fetches {
				t.Errorf("credentials fetched %d times for %d calls, want %d", got, tt.calls, tt.fetches)
			}
		})
	}
}

// A refused credentials request fails the call; nothing is sent unsigned.
func TestContainerCredentialsRefused(t *testing.T) {
	endpoint, _ := credentialsEndpoint(t, "right-token", time.Hour, aws.Credentials{AccessKeyID: "A", SecretAccessKey: "S"})
	srv := newWireServer(t)
	cfg, err := FromEnv(lambdaEnv("AWS_ACCESS_KEY_ID", "", "AWS_SECRET_ACCESS_KEY", "",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-token", "AWS_ENDPOINT_URL", srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = noWait()
	srv.answer(200, nil, []byte(secretOK))
	if _, err := New(cfg).SecretString(context.Background(), "s"); err == nil {
		t.Fatal("no error")
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.received) != 0 {
		t.Errorf("%d requests reached the service", len(srv.received))
	}
}
