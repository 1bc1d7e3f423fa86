package memory

import "context"

// Recollection is what one invocation knows of the memory before its
// checks decide. It is read while the Zuora calls are in flight: a check
// waits for it only once Zuora has answered, so the read costs no time of
// its own. A nil Recollection is a function without memory.
type Recollection struct {
	done   chan struct{}   // closed once states and err are set
	states map[Meter]State // a meter without an entry has no state
	err    error           // reading failed: the checks go without memory
}

// Recall starts reading the states of meters from store; nil store, nil
// Recollection.
func Recall(ctx context.Context, store Store, meters []Meter) *Recollection {
	if store == nil {
		return nil
	}
	r := &Recollection{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		r.states, r.err = store.States(ctx, meters)
	}()
	return r
}

// Recalled is a Recollection of states already read, or of a read that
// failed with err.
func Recalled(states map[Meter]State, err error) *Recollection {
	r := &Recollection{done: make(chan struct{}), states: states, err: err}
	close(r.done)
	return r
}

// Wait blocks until the memory has been read; a nil Recollection waits for
// nothing.
func (r *Recollection) Wait() {
	if r != nil {
		<-r.done
	}
}

// Err is why the memory could not be read, once it has been tried; nil
// for a function without memory.
func (r *Recollection) Err() error {
	if r == nil {
		return nil
	}
	r.Wait()
	return r.err
}

// State is m's state as read, or a first state for a meter with none.
func (r *Recollection) State(m Meter) State {
	if r == nil {
		return State{Meter: m}
	}
	r.Wait()
	if s, ok := r.states[m]; ok {
		return s
	}
	return State{Meter: m}
}
