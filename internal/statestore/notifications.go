package statestore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/example/zuora-runstatus/internal/callout"
)

// Callout notifications live in the state table's partition
// "notification", one item per Zuora-Notification-Id, apart from the meters:
//
//	state       "processing" while a delivery handles it, then "done"
//	owner       the invocation that holds it, or handled it
//	leaseUntil  epoch milliseconds: the delivery holds it until then (0: given up)
//	expiresAt   epoch seconds: the table's TTL deletes the item after it
const notificationPartition = "notification"

// claimExpiry is how long an item of a claim that never finished stays.
const claimExpiry = 24 * time.Hour

func notificationKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: notificationPartition},
		"sk": &types.AttributeValueMemberS{Value: id},
	}
}

func epochMillis(at time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(at.UnixMilli(), 10)}
}

func epochSeconds(at time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(at.Unix(), 10)}
}

// ClaimNotification takes the notification for owner if nobody has, if
// the delivery that had it gave it up or let its lease run out, or if owner
// has it already (its own earlier attempt, whose answer was lost): one
// conditional UpdateItem. When that is refused (a retry of Zuora's), the
// item it returns tells a handled notification from one being handled.
func (t *Table) ClaimNotification(ctx context.Context, id, owner string, now, leaseUntil time.Time) (callout.Claim, error) {
	u := newUpdate()
	u.set("state", &types.AttributeValueMemberS{Value: "processing"})
	u.set("owner", &types.AttributeValueMemberS{Value: owner})
	u.set("leaseUntil", epochMillis(leaseUntil))
	u.set("expiresAt", epochSeconds(now.Add(claimExpiry)))
	u.condition = "attribute_not_exists(pk) OR (#state = :processing AND (#leaseUntil < :now OR #owner = :owner))"
	u.values[":processing"] = &types.AttributeValueMemberS{Value: "processing"}
	u.values[":now"] = epochMillis(now)
	refused, err := t.update(ctx, u, notificationKey(id))
	switch {
	case err != nil:
		return 0, err
	case refused == nil:
		return callout.ClaimNew, nil
	}
	if state, ok := refused["state"].(*types.AttributeValueMemberS); ok && state.Value == "done" {
		return callout.ClaimDone, nil
	}
	return callout.ClaimBusy, nil
}

// FinishNotification marks the notification handled until expires, or
// gives it up (a lease of 0) for Zuora's retry, if owner still holds it.
// A delivery whose lease ran out and was taken over finishes nothing.
func (t *Table) FinishNotification(ctx context.Context, id, owner string, handled bool, expires time.Time) error {
	u := newUpdate()
	if handled {
		u.set("state", &types.AttributeValueMemberS{Value: "done"})
		u.set("expiresAt", epochSeconds(expires))
		u.set("leaseUntil", nil)
	} else {
		u.set("leaseUntil", &types.AttributeValueMemberN{Value: "0"})
	}
	u.condition = "#owner = :owner AND #state = :processing"
	u.names["#owner"], u.names["#state"] = "owner", "state"
	u.values[":owner"] = &types.AttributeValueMemberS{Value: owner}
	u.values[":processing"] = &types.AttributeValueMemberS{Value: "processing"}
	refused, err := t.update(ctx, u, notificationKey(id))
	if err != nil || refused == nil {
		return err
	}
	state, _ := refused["state"].(*types.AttributeValueMemberS)
	if who, _ := refused["owner"].(*types.AttributeValueMemberS); handled && who != nil && who.Value == owner && state != nil && state.Value == "done" {
		return nil // this write's own earlier attempt
	}
	return fmt.Errorf("notification %s: %w", id, callout.ErrNotHeld)
}
