package memory_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/example/zuora-runstatus/internal/memory"
	"github.com/example/zuora-runstatus/internal/statestore"
)

// A Recollection is the states read for an invocation: a meter with none
// reads as a first state, a failed read is its Err, and no store is none.
func TestRecall(t *testing.T) {
	ctx := context.Background()
	store := statestore.NewMemory()
	if _, err := store.Save(ctx, memory.State{Meter: m102, Status: "FAILED"}); err != nil {
		t.Fatal(err)
	}
	m103 := memory.Meter{MeterID: 103, Version: "0.0.1"}
	r := memory.Recall(ctx, store, []memory.Meter{m102, m103})
	if err := r.Err(); err != nil || r.State(m102).Status != "FAILED" || r.State(m102).Rev != 1 ||
		!reflect.DeepEqual(r.State(m103), memory.State{Meter: m103}) {
		t.Errorf("Recall: err %v, 102 %+v, 103 %+v", err, r.State(m102), r.State(m103))
	}
	store.SetErr(errors.New("dynamodb: throttled"))
	if err := memory.Recall(ctx, store, []memory.Meter{m102}).Err(); err == nil {
		t.Error("a failed read has no Err")
	}
	var none *memory.Recollection
	if memory.Recall(ctx, nil, []memory.Meter{m102}) != nil || none.Err() != nil || !reflect.DeepEqual(none.State(m103), memory.State{Meter: m103}) {
		t.Error("without a store, Recall is not a nil Recollection that reads as no memory")
	}
	none.Wait()
	if got := memory.Recalled(nil, errors.New("x")).Err(); got == nil {
		t.Error("Recalled lost its error")
	}
}

// Rule 8's owner tokens: the invocation's is its request id, each check's
// is that and a number no other check of the invocation has.
func TestOwnerTokens(t *testing.T) {
	ctx := memory.WithOwner(context.Background(), "req-1")
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			o := memory.NextOwner(ctx)
			mu.Lock()
			defer mu.Unlock()
			seen[o] = true
		})
	}
	wg.Wait()
	if memory.InvocationOwner(ctx) != "req-1" || len(seen) != 50 || !seen["req-1#1"] || !seen["req-1#50"] {
		t.Errorf("invocation %q, %d distinct check tokens: %v", memory.InvocationOwner(ctx), len(seen), seen)
	}
	local := memory.WithOwner(context.Background(), "")
	if id := memory.InvocationOwner(local); !strings.HasPrefix(id, "local-") || id == memory.InvocationOwner(memory.WithOwner(context.Background(), "")) {
		t.Errorf("outside Lambda: %q, want a random local- name", id)
	}
	if a, b := memory.NextOwner(context.Background()), memory.NextOwner(context.Background()); a == b || !strings.HasPrefix(a, "unnamed#") {
		t.Errorf("without an owner: %q and %q", a, b)
	}
}
