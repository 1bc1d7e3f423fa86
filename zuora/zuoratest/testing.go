package zuoratest

import "testing"

// NewTestServer starts a simulator with c applied and closes it when tb
// ends; a c that Apply refuses fails tb.
func NewTestServer(tb testing.TB, c Config) *Server {
	tb.Helper()
	s := NewServer()
	tb.Cleanup(s.Close)
	if err := s.Apply(c); err != nil {
		tb.Fatal(err)
	}
	return s
}
