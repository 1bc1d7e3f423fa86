package awsapi

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// Regions of every partition in the SDK's partitions.json, plus regions that
// do not exist yet but have a partition's shape.
var endpointTestRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2",
	"ap-northeast-1", "ap-south-2", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
	"eu-north-1", "eu-south-2", "eu-west-3", "il-central-1", "me-central-1", "me-west-1", "mx-central-1",
	"sa-east-1", "sa-west-1", "us-north-9", "ap-central-3",
	"cn-north-1", "cn-northwest-1", "cn-south-7",
	"eusc-de-east-1", "eusc-de-west-2",
	"us-gov-east-1", "us-gov-west-1",
	"us-iso-east-1", "us-iso-west-1",
	"us-isob-east-1", "us-isob-west-1",
	"eu-isoe-west-1",
	"us-isof-east-1", "us-isof-south-1",
}

// The endpoints here are the SDK's: for every partition, FIPS and dual-stack
// setting, standardEndpoint gives what the services' own resolvers give.
func TestStandardEndpointMatchesTheSDK(t *testing.T) {
	ctx := context.Background()
	resolvers := map[string]func(region string, fips, dualStack bool) (string, error){
		secretsManagerService: func(region string, fips, dualStack bool) (string, error) {
			e, err := secretsmanager.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, secretsmanager.EndpointParameters{
				Region: aws.String(region), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dualStack),
			})
			return e.URI.String(), err
		},
		snsService: func(region string, fips, dualStack bool) (string, error) {
			e, err := sns.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, sns.EndpointParameters{
				Region: aws.String(region), UseFIPS: aws.Bool(fips), UseDualStack: aws.Bool(dualStack),
			})
			return e.URI.String(), err
		},
	}
	checked := 0
	for service, sdk := range resolvers {
		for _, region := range endpointTestRegions {
			for _, fips := range []bool{false, true} {
				for _, dualStack := range []bool{false, true} {
					want, wantErr := sdk(region, fips, dualStack)
					got, err := standardEndpoint(service, region, fips, dualStack)
					if (err != nil) != (wantErr != nil) || got != want && wantErr == nil {
						t.Errorf("%s %s fips=%v dualstack=%v: %q, %v; the SDK: %q, %v", service, region, fips, dualStack, got, err, want, wantErr)
					}
					checked++
				}
			}
		}
	}
	if checked != 2*len(endpointTestRegions)*4 {
		t.Fatalf("checked %d cases", checked)
	}
}
