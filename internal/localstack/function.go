package localstack

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Function is another container running the function beside the Stack's
// own: its own RIE and bootstrap process, the same moto, simulator and
// state table. Containers run at the same time, as Lambda's do.
type Function struct {
	turn sync.Mutex // the RIE serves one invocation at a time
	rie  *proc
	url  string
}

// AddFunction starts another container with env laid over the default
// function environment. Close stops it with the rest.
func (s *Stack) AddFunction(ctx context.Context, env map[string]string) (*Function, error) {
	s.mu.Lock()
	n, bootstrap, closed := len(s.others)+2, s.opts.Bootstrap, s.closed
	s.mu.Unlock()
	if closed {
		return nil, errors.New("localstack: the stack is closed")
	}
	p, url, err := s.launch(ctx, bootstrap, env, fmt.Sprintf("function-%d.log", n))
	if err != nil {
		return nil, err
	}
	f := &Function{rie: p, url: url}
	s.mu.Lock()
	s.others = append(s.others, f)
	s.mu.Unlock()
	return f, nil
}

// Invoke is Stack.Invoke for this container.
func (f *Function) Invoke(ctx context.Context, payload []byte) (Reply, error) {
	f.turn.Lock()
	defer f.turn.Unlock()
	return invoke(ctx, f.url, payload)
}

// FunctionLog is Stack.FunctionLog for this container.
func (f *Function) FunctionLog() string { return readLog(f.rie.logPath) }
