// Package main is the local-run harness: command localrun (main.go), and
// the types the end-to-end tests drive the function with.
//
// A Stack is the function's bootstrap running in the AWS Lambda Runtime
// Interface Emulator (RIE), wired to the Zuora simulator (cmd/zuora-sim) and
// to moto_server, which stands in for Secrets Manager, SNS and SQS:
//
//	s, err := NewStack(ctx, Options{Bootstrap: ..., Sim: ..., RIE: ..., SimConfig: ...})
//	defer s.Close()
//	r, err := s.Invoke(ctx, []byte(`{"meterId": 102, "version": "0.0.1"}`))
//	// r.Failed(), r.ErrorType, r.Decode(&out), r.HTTP()
//	alerts, err := s.DrainAlerts(ctx) // SNS envelopes from the queue on the topic
//
// NewStack creates in moto the secret zuora/local (the simulator's OAuth
// client), the topics zuora-runstatus-alerts and zuora-runstatus-alerts.fifo,
// and a queue subscribed to each. The function gets a Lambda-like
// environment built from scratch (see Stack.functionEnv); Options.Env and
// RestartFunction change it. PutSecret, CreateSecret and the Sim* methods
// set up the other scenarios; AWS gives the raw SDK clients.
//
// Every child runs in its own process group and logs to a file in LogDir;
// Logs returns their tails and FunctionLog the function's whole log. Close
// stops them all, including the bootstrap the RIE starts in a group of its
// own.
package main
