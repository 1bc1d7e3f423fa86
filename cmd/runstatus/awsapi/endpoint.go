package awsapi

import (
	"fmt"
	"strings"
)

// The services' endpoint prefixes, which are also their SigV4 signing names.
const (
	secretsManagerService = "secretsmanager"
	snsService            = "sns"
)

// partition holds what an endpoint needs of an AWS partition, from the SDK's
// partitions.json (internal/endpoints/awsrulesfn). Every partition there
// supports FIPS and dual-stack endpoints.
type partition struct {
	name               string
	regionPrefix       string // the partition's regions start with it
	dnsSuffix          string
	dualStackDNSSuffix string
}

// partitions in the order they are tried; the last, "aws", takes every
// region no other prefix claims, as the SDK's rules default to it.
var partitions = []partition{
	{"aws-cn", "cn-", "amazonaws.com.cn", "api.amazonwebservices.com.cn"},
	{"aws-eusc", "eusc-", "amazonaws.eu", "api.amazonwebservices.eu"},
	{"aws-us-gov", "us-gov-", "amazonaws.com", "api.aws"},
	{"aws-iso", "us-iso-", "c2s.ic.gov", "api.aws.ic.gov"},
	{"aws-iso-b", "us-isob-", "sc2s.sgov.gov", "api.aws.scloud"},
	{"aws-iso-e", "eu-isoe-", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"},
	{"aws-iso-f", "us-isof-", "csp.hci.ic.gov", "api.aws.hci.ic.gov"},
	{"aws", "", "amazonaws.com", "api.aws"},
}

func partitionOf(region string) partition {
	for _, p := range partitions {
		if strings.HasPrefix(region, p.regionPrefix) {
			return p
		}
	}
	return partitions[len(partitions)-1]
}

// standardEndpoint is the URL the SDK's endpoint rules give service in
// region: https://{service}[-fips].{region}.{suffix}, with the services' own
// exceptions.
func standardEndpoint(service, region string, fips, dualStack bool) (string, error) {
	if !isHostLabel(region) {
		return "", fmt.Errorf("%q is not a region name", region)
	}
	p := partitionOf(region)
	host := service
	if fips {
		host += "-fips"
	}
	suffix := p.dnsSuffix
	if dualStack {
		suffix = p.dualStackDNSSuffix
	}
	switch {
	case service == secretsManagerService && dualStack && (p.name == "aws" || p.name == "aws-us-gov" || p.name == "aws-cn" && !fips):
		// Secrets Manager's usual endpoints there already answer over IPv6.
		suffix = p.dnsSuffix
	case service == snsService && fips && !dualStack && (region == "us-gov-east-1" || region == "us-gov-west-1"):
		// SNS's usual GovCloud endpoints are FIPS endpoints.
		host = service
	}
	return "https://" + host + "." + region + "." + suffix, nil
}
