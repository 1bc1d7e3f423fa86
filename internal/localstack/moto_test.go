package localstack

import (
	"context"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The process's stacks share one moto_server, each in an account of its
// own, and it stops with the last of them.
func TestSharedMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	path, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server not found in PATH: install it with `pip install 'moto[server]'`")
	}
	template := filepath.Join("..", "..", "template.yaml")
	a, err := StartMoto(context.Background(), path, template)
	if err != nil {
		t.Fatal(err)
	}
	b, err := StartMoto(context.Background(), path, template)
	if err != nil {
		t.Fatal(err)
	}
	if a.URL != b.URL || a.Account == b.Account {
		t.Fatalf("two users: %s %s and %s %s; want one moto, two accounts", a.URL, a.Account, b.URL, b.Account)
	}
	// Each account has its own table (both created it under one name).
	item := map[string]dbtypes.AttributeValue{"pk": &dbtypes.AttributeValueMemberS{Value: "a"}, "sk": &dbtypes.AttributeValueMemberS{Value: "a"}}
	if _, err := a.DynamoDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(StateTableName), Item: item}); err != nil {
		t.Fatal(err)
	}
	if out, err := b.DynamoDB.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(StateTableName)}); err != nil || len(out.Items) != 0 {
		t.Errorf("b's table: %d items, %v; want none of a's", len(out.Items), err)
	}
	motoMu.Lock()
	pid := motoNow.proc.cmd.Process.Pid
	motoMu.Unlock()
	a.Close()
	a.Close() // once
	if syscall.Kill(pid, 0) != nil {
		t.Fatal("moto stopped while b still uses it")
	}
	b.Close()
	motoMu.Lock()
	defer motoMu.Unlock()
	if motoNow != nil || motoUsers != 0 {
		t.Errorf("after the last user: %v, %d users", motoNow, motoUsers)
	}
}
