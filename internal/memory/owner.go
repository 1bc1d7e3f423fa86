package memory

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
)

// Owner tokens name the invocation in the claims it writes (rule 8). The
// invocation's id is the Lambda request id, which Lambda keeps when it
// retries an invocation, so a retry takes back what the failed attempt
// held at once. Each check of the invocation has a token of its own, so
// that two checks of one batch are rivals.
type owner struct {
	id   string
	next atomic.Int64
}

type ownerKey struct{}

// WithOwner names the invocation of ctx id; "" (outside Lambda) gives it a
// random name.
func WithOwner(ctx context.Context, id string) context.Context {
	if id == "" {
		id = "local-" + strconv.FormatUint(rand.Uint64(), 36)
	}
	return context.WithValue(ctx, ownerKey{}, &owner{id: id})
}

// InvocationOwner is the owner token of the invocation's own claims.
func InvocationOwner(ctx context.Context) string {
	if o, ok := ctx.Value(ownerKey{}).(*owner); ok {
		return o.id
	}
	return "unnamed"
}

// NextOwner is the owner token of one more check of the invocation.
func NextOwner(ctx context.Context) string {
	if o, ok := ctx.Value(ownerKey{}).(*owner); ok {
		return o.id + "#" + strconv.FormatInt(o.next.Add(1), 10)
	}
	return "unnamed#" + strconv.FormatUint(rand.Uint64(), 36)
}
