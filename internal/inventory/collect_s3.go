package inventory

import (
	"time"

	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// s3 reads bucket metadata: region, tags and lifecycle rules. Never an
// object, nor a listing of objects.
func (r *region) s3() {
	client := s3.NewFromConfig(r.cfg)
	var buckets []s3Bucket
	for p := s3.NewListBucketsPaginator(client, &s3.ListBucketsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("s3", "ListBuckets", err)
			return
		}
		for _, b := range page.Buckets {
			buckets = append(buckets, s3Bucket{name: aws.ToString(b.Name), created: b.CreationDate, region: aws.ToString(b.BucketRegion)})
		}
	}
	for _, b := range buckets {
		if r.ctx.Err() != nil {
			return
		}
		if b.region == "" {
			loc, err := client.GetBucketLocation(r.ctx, &s3.GetBucketLocationInput{Bucket: aws.String(b.name)})
			if err != nil {
				r.fail("s3", "GetBucketLocation", err)
				continue
			}
			b.region = string(loc.LocationConstraint)
			if b.region == "" {
				b.region = "us-east-1" // AWS answers no constraint for us-east-1
			}
		}
		// Per-bucket calls go to the bucket's region.
		regional := s3.NewFromConfig(r.cfg, func(o *s3.Options) { o.Region = b.region })
		res := Resource{ARN: "arn:aws:s3:::" + b.name, Service: "s3", Type: "bucket", ID: b.name, Name: b.name, Region: b.region,
			Created: aws.ToTime(b.created), State: "available", Metadata: map[string]any{}}
		tags, err := regional.GetBucketTagging(r.ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(b.name)})
		switch {
		case absent(err, "NoSuchTagSet"):
		case err != nil:
			r.fail("s3", "GetBucketTagging", err)
		default:
			res.Tags = map[string]string{}
			for _, t := range tags.TagSet {
				res.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			res.Tags = nilIfEmpty(res.Tags)
		}
		lc, err := regional.GetBucketLifecycleConfiguration(r.ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b.name)})
		switch {
		case absent(err, "NoSuchLifecycleConfiguration"):
			res.Metadata["lifecycle_rules"] = 0
		case err != nil:
			r.fail("s3", "GetBucketLifecycleConfiguration", err)
		default:
			enabled, abort := 0, 0
			for _, rule := range lc.Rules {
				if rule.Status != "Enabled" {
					continue
				}
				enabled++
				if a := rule.AbortIncompleteMultipartUpload; a != nil && aws.ToInt32(a.DaysAfterInitiation) > 0 {
					if d := int(aws.ToInt32(a.DaysAfterInitiation)); abort == 0 || d < abort {
						abort = d
					}
				}
			}
			res.Metadata["lifecycle_rules"] = enabled
			if abort > 0 {
				res.Metadata["abort_incomplete_multipart_days"] = abort
			}
		}
		r.add(res)
	}
}

type s3Bucket struct {
	name, region string
	created      *time.Time
}

// absent reports an S3 error that means "this bucket has none".
func absent(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}
