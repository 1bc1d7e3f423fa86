package awsapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
)

// These tests hold this package to the SDK's service clients: the same
// request on the wire for the same input, and the same reading of the same
// answer. The answers are AWS's wire payloads, kept in testdata.

var testCreds = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: "session-token-example"}

const testRegion = "us-east-1"

// wireServer answers every request with one canned answer and keeps what it
// was sent.
type wireServer struct {
	*httptest.Server
	mu       sync.Mutex
	status   int
	header   http.Header
	body     []byte
	received []captured
}

type captured struct {
	method, path string
	header       http.Header
	host         string
	body         []byte
}

func newWireServer(t *testing.T) *wireServer {
	s := &wireServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.received = append(s.received, captured{r.Method, r.URL.Path, r.Header.Clone(), r.Host, body})
		status, header, answer := s.status, s.header, s.body
		s.mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		w.Write(answer)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *wireServer) answer(status int, header http.Header, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.header, s.body, s.received = status, header, body, nil
}

func (s *wireServer) last(t *testing.T) captured {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.received) != 1 {
		t.Fatalf("the server got %d requests, want 1", len(s.received))
	}
	return s.received[0]
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sdkConfig is an aws.Config for the SDK's clients, without retries, pointed
// at the server.
func sdkConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       testRegion,
		Credentials:  credentials.StaticCredentialsProvider{Value: testCreds},
		BaseEndpoint: aws.String(endpoint),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// ourClient is this package's client, without retries, pointed at the server.
func ourClient(endpoint string) *Client {
	return New(Config{
		Region: testRegion, Credentials: credentials.StaticCredentialsProvider{Value: testCreds},
		SecretsManagerEndpoint: endpoint, SNSEndpoint: endpoint,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 1 }),
	})
}

var authPattern = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$`)

// checkSigned checks that r carries a valid SigV4 signature for service: the
// signature is computed again over the headers it names, the body and its
// date, with the SDK's signer, and must come out the same.
func checkSigned(t *testing.T, who string, r captured, service string) (signedHeaders string) {
	t.Helper()
	return checkSignedBy(t, who, r, service, testCreds)
}

func checkSignedBy(t *testing.T, who string, r captured, service string, creds aws.Credentials) (signedHeaders string) {
	t.Helper()
	m := authPattern.FindStringSubmatch(r.header.Get("Authorization"))
	if m == nil {
		t.Fatalf("%s: Authorization %q is not a SigV4 header", who, r.header.Get("Authorization"))
	}
	if m[1] != creds.AccessKeyID || m[3] != testRegion || m[4] != service {
		t.Errorf("%s: credential scope %s/%s/%s, want %s/%s/%s", who, m[1], m[3], m[4], creds.AccessKeyID, testRegion, service)
	}
	if got := r.header.Get("X-Amz-Security-Token"); got != creds.SessionToken {
		t.Errorf("%s: X-Amz-Security-Token = %q", who, got)
	}
	at, err := time.Parse("20060102T150405Z", r.header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatalf("%s: X-Amz-Date: %v", who, err)
	}
	again, _ := http.NewRequest(r.method, "http://"+r.host+r.path, bytes.NewReader(r.body))
	for _, h := range strings.Split(m[5], ";") {
		if h != "host" && h != "content-length" {
			again.Header.Set(h, r.header.Get(h))
		}
	}
	sum := sha256.Sum256(r.body)
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), service, testRegion, at); err != nil {
		t.Fatal(err)
	}
	if m2 := authPattern.FindStringSubmatch(again.Header.Get("Authorization")); m2 == nil || m2[5] != m[5] || m2[6] != m[6] {
		t.Errorf("%s: signature does not verify:\n sent     %s\n computed %s", who, r.header.Get("Authorization"), again.Header.Get("Authorization"))
	}
	return m[5]
}

// sameRequest checks that ours is the request the SDK sent.
func sameRequest(t *testing.T, sdk, ours captured, service string, decode func([]byte) (any, error)) {
	t.Helper()
	if ours.method != sdk.method || ours.path != sdk.path {
		t.Errorf("request line %s %s, the SDK's %s %s", ours.method, ours.path, sdk.method, sdk.path)
	}
	for _, h := range []string{"Content-Type", "X-Amz-Target"} {
		if got, want := ours.header.Get(h), sdk.header.Get(h); got != want && !(h == "Content-Type" && strings.HasPrefix(want, got+";")) {
			t.Errorf("%s: %q, the SDK's %q", h, got, want)
		}
	}
	sdkSigned, ourSigned := checkSigned(t, "the SDK", sdk, service), checkSigned(t, "ours", ours, service)
	for _, h := range strings.Split(sdkSigned, ";") {
		if !strings.HasPrefix(h, "amz-sdk-") && !slices.Contains(strings.Split(ourSigned, ";"), h) {
			t.Errorf("the SDK signs %s, ours does not (ours: %s)", h, ourSigned)
		}
	}
	want, err := decode(sdk.body)
	if err != nil {
		t.Fatalf("the SDK's body %q: %v", sdk.body, err)
	}
	got, err := decode(ours.body)
	if err != nil {
		t.Fatalf("our body %q: %v", ours.body, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body\n ours    %s\n the SDK %s", ours.body, sdk.body)
	}
}

func decodeJSON(b []byte) (any, error) {
	var v any
	return v, json.Unmarshal(b, &v)
}

func decodeForm(b []byte) (any, error) { return url.ParseQuery(string(b)) }

// sdkErrorParts is what the SDK makes of an error answer: code, message,
// status, request id.
func sdkErrorParts(err error) (code, msg string, status int, requestID string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status, requestID = re.HTTPStatusCode(), re.ServiceRequestID()
	}
	// For an answer without a body, the SDK's JSON protocol says
	// "UnknownError" where its query protocol says nothing; ours says
	// nothing in both.
	if code == "UnknownError" && msg == "UnknownError" {
		code, msg = "", ""
	}
	return
}

// sameOutcome checks that both calls failed alike, or both returned the same
// non-empty value.
func sameOutcome(t *testing.T, wantErr bool, sdkErr, ourErr error, sdkValue, ourValue string) {
	t.Helper()
	switch {
	case wantErr && (sdkErr == nil || ourErr == nil):
		t.Fatalf("errors: the SDK %v, ours %v; want both", sdkErr, ourErr)
	case wantErr:
		checkSameError(t, sdkErr, ourErr)
	case sdkErr != nil || ourErr != nil:
		t.Fatalf("errors: the SDK %v, ours %v", sdkErr, ourErr)
	case ourValue != sdkValue || ourValue == "":
		t.Errorf("ours %q, the SDK's %q", ourValue, sdkValue)
	}
}

func checkSameError(t *testing.T, sdkErr, ourErr error) {
	t.Helper()
	code, msg, status, reqID := sdkErrorParts(sdkErr)
	var ae *APIError
	if !errors.As(ourErr, &ae) {
		t.Fatalf("our error %v (%T) is not an *APIError; the SDK's: %v", ourErr, ourErr, sdkErr)
	}
	if ae.Code != code || ae.Message != msg || ae.StatusCode != status || ae.RequestID != reqID {
		t.Errorf("ours: code %q message %q status %d request id %q\nthe SDK: code %q message %q status %d request id %q",
			ae.Code, ae.Message, ae.StatusCode, ae.RequestID, code, msg, status, reqID)
	}
}

func TestGetSecretValueLikeTheSDK(t *testing.T) {
	srv := newWireServer(t)
	sdk := secretsmanager.NewFromConfig(sdkConfig(srv.URL))
	ours := ourClient(srv.URL)
	jsonHeader := func(requestID string) http.Header {
		return http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Requestid": {requestID}}
	}
	tests := []struct {
		name     string
		secretID string
		status   int
		header   http.Header
		file     string
		wantErr  bool
	}{
		{"secret string", "zuora/mediation", 200, jsonHeader("r-1"), "GetSecretValue.json", false},
		{"ARN as the id", "arn:aws:secretsmanager:us-east-1:123456789012:secret:zuora/mediation-a1b2c3", 200, jsonHeader("r-2"), "GetSecretValue.json", false},
		{"not found", "zuora/missing", 400, jsonHeader("r-3"), "GetSecretValue-ResourceNotFoundException.json", true},
		{"access denied", "zuora/mediation", 400, jsonHeader("r-4"), "GetSecretValue-AccessDeniedException.json", true},
		{"throttled, qualified code", "zuora/mediation", 400, jsonHeader("r-5"), "GetSecretValue-ThrottlingException.json", true},
		{"code in the header only", "zuora/mediation", 400, http.Header{"X-Amzn-Errortype": {"DecryptionFailure:http://internal.amazon.com/coral/com.amazonaws.secretsmanager/"}, "X-Amzn-Requestid": {"r-6"}}, "", true},
		{"server error without a body", "zuora/mediation", 500, jsonHeader("r-7"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body []byte
			if tt.file != "" {
				body = testdata(t, tt.file)
			}
			ctx := context.Background()

			srv.answer(tt.status, tt.header, body)
			out, sdkErr := sdk.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(tt.secretID)})
			sdkReq := srv.last(t)

			srv.answer(tt.status, tt.header, body)
			got, ourErr := ours.SecretString(ctx, tt.secretID)
			sameRequest(t, sdkReq, srv.last(t), "secretsmanager", decodeJSON)

			var want string
			if out != nil {
				want = aws.ToString(out.SecretString)
			}
			sameOutcome(t, tt.wantErr, sdkErr, ourErr, want, got)
		})
	}
}

func TestGetSecretValueBinarySecret(t *testing.T) {
	srv := newWireServer(t)
	srv.answer(200, nil, testdata(t, "GetSecretValue-binary.json"))
	_, err := ourClient(srv.URL).SecretString(context.Background(), "zuora/binary")
	if err == nil || !strings.Contains(err.Error(), "no SecretString") {
		t.Errorf("err = %v, want one saying the secret has no SecretString", err)
	}
}

func TestPublishLikeTheSDK(t *testing.T) {
	srv := newWireServer(t)
	sdk := sns.NewFromConfig(sdkConfig(srv.URL))
	ours := ourClient(srv.URL)
	xmlHeader := http.Header{"Content-Type": {"text/xml"}, "X-Amzn-Requestid": {"from-header"}}

	standard := PublishInput{
		TopicARN: "arn:aws:sns:us-east-1:123456789012:zuora-runstatus-alerts",
		Subject:  "Zuora meter 101 v0.0.1 run FAILED",
		Message:  `{"meterId":101,"version":"0.0.1","status":"FAILED","note":"ünïcødé & = + % ; \n"}`,
		Attributes: []MessageAttribute{
			{"status", "String", "FAILED"}, {"meterId", "Number", "101"}, {"version", "String", "0.0.1"}, {"statusCode", "Number", "8"},
		},
	}
	fifo := standard
	fifo.TopicARN += ".fifo"
	fifo.GroupID, fifo.DeduplicationID = "101:0.0.1", strings.Repeat("ab", 32)
	bare := PublishInput{TopicARN: standard.TopicARN, Message: "m"}

	tests := []struct {
		name    string
		in      PublishInput
		status  int
		file    string
		wantErr bool
	}{
		{"standard topic", standard, 200, "Publish.xml", false},
		{"FIFO topic", fifo, 200, "Publish-fifo.xml", false},
		{"no subject, no attributes", bare, 200, "Publish.xml", false},
		{"topic not found", standard, 404, "Publish-NotFound.xml", true},
		{"throttled", standard, 429, "Publish-Throttled.xml", true},
		{"internal error", standard, 500, "Publish-InternalError.xml", true},
		{"bad gateway without a body", standard, 502, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			in := &sns.PublishInput{TopicArn: aws.String(tt.in.TopicARN), Message: aws.String(tt.in.Message)}
			if tt.in.Subject != "" {
				in.Subject = aws.String(tt.in.Subject)
			}
			if tt.in.GroupID != "" {
				in.MessageGroupId, in.MessageDeduplicationId = aws.String(tt.in.GroupID), aws.String(tt.in.DeduplicationID)
			}
			if len(tt.in.Attributes) > 0 {
				in.MessageAttributes = map[string]snstypes.MessageAttributeValue{}
				for _, a := range tt.in.Attributes {
					in.MessageAttributes[a.Name] = snstypes.MessageAttributeValue{DataType: aws.String(a.DataType), StringValue: aws.String(a.Value)}
				}
			}
			var body []byte
			if tt.file != "" {
				body = testdata(t, tt.file)
			}

			srv.answer(tt.status, xmlHeader, body)
			out, sdkErr := sdk.Publish(ctx, in)
			sdkReq := srv.last(t)

			srv.answer(tt.status, xmlHeader, body)
			id, ourErr := ours.Publish(ctx, tt.in)
			sameRequest(t, sdkReq, srv.last(t), "sns", decodeForm)

			var want string
			if out != nil {
				want = aws.ToString(out.MessageId)
			}
			sameOutcome(t, tt.wantErr, sdkErr, ourErr, want, id)
		})
	}
}
