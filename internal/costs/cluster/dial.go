package cluster

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Dial opens a handle on the cost store at cfg.URL with crossbill's own
// (hub) AWS configuration, as `serve` and the CLI's cost commands do
// (--cost-store, --cost-store-endpoint). endpoint, when set, is an
// S3-compatible store (MinIO, Ceph, an emulator), addressed path-style.
func Dial(hub aws.Config, endpoint string, cfg Config) (*Cluster, error) {
	c := hub.Copy()
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	cfg.S3 = s3.NewFromConfig(c, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		// S3-compatible stores want path-style URLs.
		o.UsePathStyle = o.BaseEndpoint != nil
	})
	return New(cfg)
}
