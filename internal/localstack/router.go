package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// router is where moto's Step Functions interpreter sends a Task's service
// calls: it calls http://localhost:$MOTO_PORT, and moto_server is started
// with MOTO_PORT set to the router's port. Lambda's Invoke of a stack's
// function goes to the RIE running the real bootstrap, found by the
// account in the function's ARN; every other request goes on to moto. moto
// is started with -p 0 and its port is learnt from its log, so the router
// listens first and learns moto's URL afterwards.
type router struct {
	srv  *http.Server
	port string
	moto atomic.Pointer[httputil.ReverseProxy] // nil until moto listens

	mu sync.Mutex
	// invokers answer Invoke for a function name in an account; ok is
	// false for a function the stack does not run.
	invokers map[string]invoker
}

type invoker func(ctx context.Context, name string, payload []byte) (r Reply, ok bool, err error)

// register has the router send account's Invokes to invoke; nil stops it.
func (rt *router) register(account string, invoke invoker) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if invoke == nil {
		delete(rt.invokers, account)
		return
	}
	rt.invokers[account] = invoke
}

// maxInvokePayload is Lambda's limit on a synchronous request.
const maxInvokePayload = 6 << 20

// invokePath is Lambda's Invoke: POST /2015-03-31/functions/{name}/invocations,
// where name is a name, an ARN or a partial ARN, perhaps with a qualifier.
var invokePath = regexp.MustCompile(`^/2015-03-31/functions/([^/]+)/invocations$`)

// newRouter listens on a loopback port: moto's interpreter calls
// "localhost", which resolves to 127.0.0.1 first (and botocore tries every
// address it resolves to).
func newRouter() (*router, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	rt := &router{port: fmt.Sprint(ln.Addr().(*net.TCPAddr).Port), invokers: map[string]invoker{}}
	rt.srv = &http.Server{Handler: rt, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = rt.srv.Serve(ln) }() // ends with close
	return rt, nil
}

// forwardTo sends every request that is not the function's Invoke to moto.
func (rt *router) forwardTo(motoURL string) error {
	u, err := url.Parse(motoURL)
	if err != nil {
		return fmt.Errorf("router: moto's URL: %w", err)
	}
	rt.moto.Store(httputil.NewSingleHostReverseProxy(u))
	return nil
}

func (rt *router) close() {
	if rt != nil {
		rt.srv.Close()
	}
}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m := invokePath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodPost {
		rt.serveInvoke(w, r, m[1])
		return
	}
	proxy := rt.moto.Load()
	if proxy == nil {
		lambdaError(w, http.StatusServiceUnavailable, "ServiceException", "moto is not listening yet")
		return
	}
	proxy.ServeHTTP(w, r)
}

// serveInvoke answers a synchronous Invoke as Lambda does: 200 with the
// result, or 200 with X-Amz-Function-Error: Unhandled and the error
// document when the function failed (how the interpreter, like Step
// Functions, learns the errorType that Retry and Catch match); Lambda's own
// failures are 4xx/5xx with x-amzn-ErrorType, which the interpreter names
// Lambda.<type>.
func (rt *router) serveInvoke(w http.ResponseWriter, r *http.Request, function string) {
	if t := r.Header.Get("X-Amz-Invocation-Type"); t != "" && t != "RequestResponse" {
		lambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "the local stack invokes RequestResponse only, not "+t)
		return
	}
	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxInvokePayload))
	if err != nil {
		lambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", err.Error())
		return
	}
	account, name := functionRef(function)
	rt.mu.Lock()
	invoke := rt.invokers[account]
	rt.mu.Unlock()
	reply, ok, err := Reply{}, false, error(nil)
	if invoke != nil {
		reply, ok, err = invoke(r.Context(), name, payload)
	}
	switch {
	case !ok:
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+function)
		return
	case err != nil:
		lambdaError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	body := reply.Body
	if reply.Failed() {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		body = errorDocument(reply)
	}
	_, _ = w.Write(body) // the caller may have gone; nothing to do then
}

// functionRef is the account and the function's name in the forms of
// Invoke's function that name an account: "123456789012:function:name",
// "arn:aws:lambda:region:123456789012:function:name[:qualifier]". A bare
// name has no account.
func functionRef(s string) (account, name string) {
	parts := strings.Split(s, ":")
	for i, p := range parts {
		if p == "function" && i+1 < len(parts) {
			if i > 0 {
				account = parts[i-1]
			}
			return account, parts[i+1]
		}
	}
	return "", parts[0]
}

// errorDocument is Lambda's body for a failed invocation: the runtime's own
// document when it sent one, else one made from the Reply (a timeout, or a
// runtime that exited without a word).
func errorDocument(r Reply) []byte {
	if isErrorDocument(r.Body) {
		return r.Body
	}
	b, err := json.Marshal(map[string]string{"errorType": r.ErrorType, "errorMessage": r.ErrorMessage})
	if err != nil { // strings always marshal
		panic(err)
	}
	return b
}

// lambdaError is a failure of Lambda itself, in Lambda's REST-JSON form.
func lambdaError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", typ)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg})
}

// invokeByName invokes the Stack's own container if name is the function's
// name (AWS_LAMBDA_FUNCTION_NAME in its environment).
func (s *Stack) invokeByName(ctx context.Context, name string, payload []byte) (Reply, bool, error) {
	if name != s.functionName() {
		return Reply{}, false, nil
	}
	r, err := s.Invoke(ctx, payload)
	if err != nil {
		err = fmt.Errorf("invoking %s: %w", name, err)
	}
	return r, true, err
}

// functionName is the name the function runs under, as its environment says.
func (s *Stack) functionName() string {
	for _, kv := range s.functionEnv(s.opts.Env) {
		if v, ok := strings.CutPrefix(kv, "AWS_LAMBDA_FUNCTION_NAME="); ok {
			return v
		}
	}
	return ""
}
