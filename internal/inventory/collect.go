package inventory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
)

// Concurrency defaults: accounts read at once, and regions at once within
// an account. Describe quotas are per account and region, so spreading over
// both scales; the factory's adaptive retryer absorbs throttling.
const (
	DefaultAccountConcurrency = 8
	DefaultRegionConcurrency  = 4
)

// Failure is a part of an inventory that could not be read: one service in
// one region of one account. The rest of the sync goes on; that part keeps
// its previous resources until a sync reads it.
type Failure struct {
	Account   crossbill.AccountID `json:"account_id"`
	Region    string              `json:"region,omitempty"`
	Service   string              `json:"service"`
	Operation string              `json:"operation"`
	Class     string              `json:"class"`
	Message   string              `json:"message"`
	Fix       string              `json:"fix,omitempty"`
}

// CollectOptions tunes a collection.
type CollectOptions struct {
	AWS *awsclient.Factory
	// Regions, when set, narrows each account's enabled regions (found
	// with ec2:DescribeRegions) to these; by default all of them.
	Regions            []string
	AccountConcurrency int
	RegionConcurrency  int
	// Window is how far back utilization goes (default 14 days), in daily
	// points.
	Window time.Duration
	// APIOptions are added to every client (tests stub what the emulator
	// does not serve).
	APIOptions []func(*middleware.Stack) error
	Progress   func(string, ...any)
	Now        func() time.Time
}

func (o *CollectOptions) defaults() {
	if o.AccountConcurrency <= 0 {
		o.AccountConcurrency = DefaultAccountConcurrency
	}
	if o.RegionConcurrency <= 0 {
		o.RegionConcurrency = DefaultRegionConcurrency
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Progress == nil {
		o.Progress = func(string, ...any) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// source is one account to read and the role that reads it.
type source struct {
	account crossbill.AccountID
	target  awsclient.Target
}

// scope is one (account, region, service) read in full.
type scope struct {
	account crossbill.AccountID
	region  string
	service string
}

// collection is what a collect gathers; its methods are safe for
// concurrent use.
type collection struct {
	opts      CollectOptions
	mu        sync.Mutex
	resources []Resource
	util      []Utilization
	failures  []Failure
	done      []scope
	regions   map[string]bool
	fetched   time.Time
}

// region is one account's region being read.
type region struct {
	c       *collection
	ctx     context.Context
	account crossbill.AccountID
	name    string
	cfg     aws.Config
	partial map[string]bool // services with a failure here
	out     []Resource
}

func (c *collection) config(t awsclient.Target, region string) aws.Config {
	cfg := c.opts.AWS.Config(t, region)
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), c.opts.APIOptions...)
	return cfg
}

func (c *collection) fail(account crossbill.AccountID, region, service, operation string, err error) {
	d := awsclient.Diagnose(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, Failure{Account: account, Region: region, Service: service, Operation: operation,
		Class: string(d.Class), Message: d.Message, Fix: d.Fix})
}

// fail records a failure of service in this region; the service's
// resources here are then kept rather than pruned.
func (r *region) fail(service, operation string, err error) {
	r.partial[service] = true
	r.c.fail(r.account, r.name, service, operation, err)
}

// add records a resource of this region.
func (r *region) add(res Resource) {
	res.AccountID, res.Fetched = r.account, r.c.fetched
	if res.Region == "" {
		res.Region = r.name
	}
	if res.Console == "" {
		res.Console = consoleURL(res)
	}
	r.out = append(r.out, res)
}

// collect reads every source's enabled regions.
func collect(ctx context.Context, sources []source, opts CollectOptions) *collection {
	opts.defaults()
	c := &collection{opts: opts, regions: map[string]bool{}, fetched: opts.Now().UTC().Truncate(time.Second)}
	var wg sync.WaitGroup
	sem := make(chan struct{}, opts.AccountConcurrency)
	for _, s := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			n := c.account(ctx, s)
			opts.Progress("account %s: %d resources", s.account, n)
		}()
	}
	wg.Wait()
	slices.SortFunc(c.failures, func(a, b Failure) int {
		return strings.Compare(string(a.Account)+a.Region+a.Service+a.Operation, string(b.Account)+b.Region+b.Service+b.Operation)
	})
	slices.SortFunc(c.resources, func(a, b Resource) int { return strings.Compare(a.ARN, b.ARN) })
	return c
}

// account reads one account: its regions, each region's services, S3.
func (c *collection) account(ctx context.Context, s source) int {
	regions, err := c.discoverRegions(ctx, s)
	if err != nil {
		c.fail(s.account, "", "ec2", "DescribeRegions", err)
		return 0
	}
	if len(c.opts.Regions) > 0 {
		regions = slices.DeleteFunc(regions, func(r string) bool { return !slices.Contains(c.opts.Regions, r) })
	}
	c.mu.Lock()
	for _, r := range regions {
		c.regions[r] = true
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	sem := make(chan struct{}, c.opts.RegionConcurrency)
	for _, name := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := &region{c: c, ctx: ctx, account: s.account, name: name, cfg: c.config(s.target, name), partial: map[string]bool{}}
			r.collect()
			util := r.utilization()
			c.finish(r, util)
			mu.Lock()
			total += len(r.out)
			mu.Unlock()
		}()
	}
	// S3 lists every bucket from one endpoint; buckets carry their region.
	r := &region{c: c, ctx: ctx, account: s.account, name: "us-east-1", cfg: c.config(s.target, "us-east-1"), partial: map[string]bool{}}
	r.s3()
	wg.Wait()
	c.finishGlobal(r, "s3")
	return total + len(r.out)
}

// finish adds a region's resources and marks its fully read services.
func (c *collection) finish(r *region, util []Utilization) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resources = append(c.resources, r.out...)
	c.util = append(c.util, util...)
	for _, svc := range regionalServices {
		if !r.partial[svc] {
			c.done = append(c.done, scope{r.account, r.name, svc})
		}
	}
}

func (c *collection) finishGlobal(r *region, service string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resources = append(c.resources, r.out...)
	if !r.partial[service] {
		c.done = append(c.done, scope{r.account, "", service})
	}
}

// regionalServices are the Service values the regional collectors fill.
var regionalServices = []string{"ec2", "elasticloadbalancing", "autoscaling", "rds", "elasticache", "redshift", "es", "lambda", "dynamodb", "ecs", "eks"}

// discoverRegions lists the regions enabled in the account (opted-in or
// not needing it): DescribeRegions without AllRegions returns just those.
func (c *collection) discoverRegions(ctx context.Context, s source) ([]string, error) {
	out, err := ec2.NewFromConfig(c.config(s.target, "us-east-1")).DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, err
	}
	var regions []string
	for _, r := range out.Regions {
		if st := aws.ToString(r.OptInStatus); st == "not-opted-in" {
			continue
		}
		regions = append(regions, aws.ToString(r.RegionName))
	}
	slices.Sort(regions)
	return regions, nil
}

// collect runs each service's collector in turn (one region's calls stay
// sequential: the concurrency is across regions and accounts).
func (r *region) collect() {
	for _, f := range []func(){r.ec2, r.loadBalancers, r.autoScaling, r.rds, r.elastiCache, r.redshift, r.openSearch, r.lambda, r.dynamoDB, r.ecs, r.eks} {
		if r.ctx.Err() != nil {
			return
		}
		f()
	}
}

// arn builds an ARN in this region and account.
func (r *region) arn(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, r.name, r.account, resource)
}

func ec2Tags(ts []ec2types.Tag) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

// consoleURL is the resource's page in the AWS console.
func consoleURL(r Resource) string {
	base := "https://" + r.Region + ".console.aws.amazon.com/"
	switch r.Service + " " + r.Type {
	case "ec2 instance":
		return base + "ec2/home?region=" + r.Region + "#InstanceDetails:instanceId=" + r.ID
	case "ec2 volume":
		return base + "ec2/home?region=" + r.Region + "#VolumeDetails:volumeId=" + r.ID
	case "ec2 snapshot":
		return base + "ec2/home?region=" + r.Region + "#SnapshotDetails:snapshotId=" + r.ID
	case "ec2 image":
		return base + "ec2/home?region=" + r.Region + "#ImageDetails:imageId=" + r.ID
	case "ec2 elastic-ip":
		return base + "ec2/home?region=" + r.Region + "#ElasticIpDetails:AllocationId=" + r.ID
	case "ec2 natgateway":
		return base + "vpcconsole/home?region=" + r.Region + "#NatGatewayDetails:natGatewayId=" + r.ID
	case "rds db":
		return base + "rds/home?region=" + r.Region + "#database:id=" + r.ID
	case "lambda function":
		return base + "lambda/home?region=" + r.Region + "#/functions/" + r.ID
	case "dynamodb table":
		return base + "dynamodbv2/home?region=" + r.Region + "#table?name=" + r.ID
	case "s3 bucket":
		return "https://s3.console.aws.amazon.com/s3/buckets/" + r.ID
	}
	return ""
}
