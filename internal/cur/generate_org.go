package cur

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Account is an AWS account of the synthetic organization.
type Account struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Team       string `json:"team,omitempty"`
	Env        string `json:"env,omitempty"`
	Management bool   `json:"management,omitempty"`

	growth float64 // monthly growth of demand
	scale  float64 // size relative to a typical account
	idx    int     // position, for per-account randomness
}

type region struct {
	code, name, prefix string
	price              float64 // price factor relative to us-east-1
}

func regions() []region {
	return []region{
		{"us-east-1", "US East (N. Virginia)", "", 1.0},
		{"eu-west-1", "EU (Ireland)", "EU-", 1.1},
		{"us-west-2", "US West (Oregon)", "USW2-", 1.0},
		{"eu-central-1", "EU (Frankfurt)", "EUC1-", 1.15},
		{"ap-northeast-1", "Asia Pacific (Tokyo)", "APN1-", 1.25},
	}
}

// ec2Price returns the us-east-1 Linux on-demand $/hour, vCPUs, memory and
// normalization factor of an instance type.
func ec2Price(itype string) (od float64, vcpu int, mem string, nf float64) {
	family, size, _ := strings.Cut(itype, ".")
	base := map[string]float64{"m5": 0.096, "c6i": 0.085, "r6g": 0.1008, "t3": 0.0832}[family]
	memPerCPU := map[string]int{"m5": 4, "c6i": 2, "r6g": 8, "t3": 4}[family]
	mult := map[string]float64{"medium": 0.5, "large": 1, "xlarge": 2, "2xlarge": 4, "4xlarge": 8}[size]
	vcpu = int(2 * mult)
	if vcpu < 2 {
		vcpu = 2
	}
	return base * mult, vcpu, fmt.Sprintf("%d GiB", vcpu*memPerCPU), 4 * mult
}

func rdsPrice(class string) float64 {
	switch class {
	case "db.r6g.large":
		return 0.225
	case "db.m5.large":
		return 0.171
	default: // db.t3.medium
		return 0.068
	}
}

// kind is what a resource line measures.
type kind uint8

const (
	kEC2 kind = iota
	kEBS
	kRDS
	kRDSStorage
	kS3Storage
	kS3Requests
	kLambdaGBs
	kLambdaReq
	kFargateCPU
	kFargateMem
	kDataOut
	kDataAZ
	kNATHours
	kNATBytes
	kCWMetrics
	kCWLogs
	kFee // commitment fees, tax, credits, refunds: no usage model
	// Resources the optimization rules find wasteful (addWaste).
	kSnapshot
	kIPv4
)

// resource is one line of usage (one resource and usage type), or the
// dimension of a fee row. Its index in org.res is its id in the res table.
type resource struct {
	acct        *Account
	kind        kind
	productCode string
	servicecode string
	productName string
	family      string // product family
	usageType   string
	operation   string
	region      region
	az          string
	resourceID  string
	description string
	unit        string
	odRate      float64 // on-demand $/unit
	linuxRate   float64 // EC2: the Linux part of odRate (Savings Plans discount it)
	itype       string
	ifamily     string
	os          string
	engine      string
	nf          float64
	sku         string
	productMap  map[string]string
	tags        map[string]string
	fromLoc     string
	toLoc       string
	taxType     string
	billType    string
	// Discounts off the usage rows' unblended cost (fractions), shown in
	// the net columns and the discount columns: the organization's EDP,
	// a private rate and a bundled discount.
	edp, privateRate, bundled float64
	// principal is the IAM role whose requests made the usage (Lambda
	// invocations), principalTags its tags.
	principal     string
	principalTags map[string]string

	// usage model
	base    float64 // usage per hour at demand 1
	diurnal float64 // amplitude of the daily cycle (0 = flat)
	noise   float64 // relative noise
	slot    int     // auto scaling: this instance runs when demand > slot/slots
	slots   int
	group   int  // auto scaling: resource index of the group's first instance
	burst   bool // auto scaling: a group that can grow past its usual size
	compute bool // eligible for Compute Savings Plans

	// inventory: the instance a volume is attached to, and when a
	// snapshot was taken (Inventory lists them).
	attachedTo *resource
	created    time.Time
	detached   bool // attached to nothing (addWaste)
}

type org struct {
	seed        uint64
	name        string
	payer       *Account
	accounts    []*Account // linked accounts (payer first in Accounts())
	res         []*resource
	commitments []*Commitment
	anomalies   []Anomaly
	start       time.Time // first hour of the window
	end         time.Time
	taxRes      map[string]int // account id + product code -> fee resource
	creditRes   int
	refundRes   []int // per account
}

var teams = [...]string{"payments", "search", "data", "web", "ml", "platform", "identity", "mobile", "checkout", "ads"}

func (o *org) allAccounts() []Account {
	out := []Account{*o.payer}
	for _, a := range o.accounts {
		out = append(out, *a)
	}
	return out
}

func accountID(rng *rand.Rand, used map[string]bool) string {
	for {
		id := fmt.Sprintf("%012d", 100000000000+rng.Int64N(899999999999))
		if !used[id] {
			used[id] = true
			return id
		}
	}
}

func hexID(rng *rand.Rand, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[rng.IntN(16)]
	}
	return string(b)
}

func skuOf(parts ...string) string {
	h := fnv64(strings.Join(parts, "|"))
	const alpha = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	for i := range b {
		b[i] = alpha[h%32]
		h = h/32 ^ (h * 0x9E3779B97F4A7C15)
	}
	return string(b)
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// newOrg builds the organization: accounts, resources and commitments.
func newOrg(opts GenerateOptions) *org {
	rng := rand.New(rand.NewPCG(opts.Seed, 0x63726f737362696c))
	names := []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Soylent"}
	o := &org{seed: opts.Seed, name: names[rng.IntN(len(names))], taxRes: map[string]int{}}
	o.start = opts.Start
	o.end = opts.Start.AddDate(0, opts.Months, 0)
	lower := strings.ToLower(o.name)
	used := map[string]bool{}
	o.payer = &Account{ID: accountID(rng, used), Name: o.name + " Management", Management: true, Team: "finance", Env: "prod", scale: 0.3, growth: 0.01}
	envs := []string{"prod", "staging", "dev"}
	for i := 0; i < opts.Accounts; i++ {
		team := teams[i%len(teams)]
		env := envs[(i/len(teams)+i)%len(envs)]
		scale := map[string]float64{"prod": 1.6, "staging": 0.7, "dev": 0.45}[env] * (0.7 + 0.6*rng.Float64())
		name := fmt.Sprintf("%s-%s-%s", lower, team, env)
		if i >= len(teams)*len(envs) {
			name = fmt.Sprintf("%s-%d", name, i/(len(teams)*len(envs))+1)
		}
		o.accounts = append(o.accounts, &Account{
			ID: accountID(rng, used), Name: name, Team: team, Env: env,
			scale: scale, growth: 0.005 + 0.05*rng.Float64(),
		})
	}
	o.payer.idx = len(o.accounts)
	for i, a := range o.accounts {
		a.idx = i
		o.addResources(rng, a, i, opts.ResourcesPerAccount)
	}
	o.addResources(rng, o.payer, -1, opts.ResourcesPerAccount/4)
	o.addCommitments(rng, opts.Months)
	o.addFeeDims()
	o.addDiscounts()
	o.addAnomalies(rng, opts.Months)
	o.addWaste(opts.Seed)
	return o
}

// Discount terms of the synthetic organization: an Enterprise Discount
// Program of 3% off all usage, a private rate of 10% more off S3 storage,
// and a bundled discount of 20% off CloudWatch logs.
const (
	edpDiscount         = 0.03
	privateRateDiscount = 0.10
	bundledDiscount     = 0.20
)

// addDiscounts sets each usage resource's discounts and, for Lambda, the
// IAM role that invokes it.
func (o *org) addDiscounts() {
	for _, r := range o.res {
		if r.kind == kFee {
			continue
		}
		r.edp = edpDiscount
		switch r.kind {
		case kS3Storage:
			r.privateRate = privateRateDiscount
		case kCWLogs:
			r.bundled = bundledDiscount
		case kLambdaGBs, kLambdaReq:
			r.principal = "arn:aws:iam::" + r.acct.ID + ":role/" + r.acct.Team + "-" + r.acct.Env + "-invoker"
			r.principalTags = map[string]string{"iamPrincipal/team": r.acct.Team, "iamPrincipal/cost-center": businessUnit(r.acct.Team)}
		}
	}
}

func (o *org) tagsFor(rng *rand.Rand, a *Account, app string) map[string]string {
	if rng.IntN(10) == 0 { // some resources are untagged
		return map[string]string{}
	}
	return map[string]string{"user_team": a.Team, "user_env": a.Env, "user_app": app}
}

func (o *org) add(r *resource) int {
	if r.sku == "" {
		r.sku = skuOf(r.productCode, r.usageType, r.operation, r.region.code)
	}
	if r.billType == "" {
		r.billType = "Anniversary"
	}
	o.res = append(o.res, r)
	return len(o.res) - 1
}

// addResources creates the account's fleet. anchor >= 0 gives the first
// accounts fixed fleets that the commitments are bought for.
func (o *org) addResources(rng *rand.Rand, a *Account, anchor, n int) {
	if n < 4 {
		n = 4
	}
	regs := regions()
	home := regs[0]
	if anchor >= 0 && anchor%3 == 1 {
		home = regs[1+rng.IntN(len(regs)-1)]
	}
	apps := []string{a.Team + "-api", a.Team + "-worker", a.Team + "-web", a.Team + "-etl"}
	app := func() string { return apps[rng.IntN(len(apps))] }
	az := func(r region) string { return r.code + string(rune('a'+rng.IntN(3))) }
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }

	group, burst := 0, false
	ec2 := func(r region, itype, os, appName string, slot, slots int) {
		if slot == 0 {
			group = len(o.res)
		}
		od, vcpu, mem, nf := ec2Price(itype)
		od *= r.price
		linux := od
		op := "RunInstances"
		if os == "Windows" {
			od += 0.046 * float64(vcpu) * r.price
			op = "RunInstances:0002"
		}
		family, _, _ := strings.Cut(itype, ".")
		o.add(&resource{
			acct: a, kind: kEC2, productCode: "AmazonEC2", servicecode: "AmazonEC2",
			productName: "Amazon Elastic Compute Cloud", family: "Compute Instance",
			usageType: r.prefix + "BoxUsage:" + itype, operation: op, region: r, az: az(r),
			resourceID:  "i-0" + hexID(rng, 16),
			description: fmt.Sprintf("$%.4g per On Demand %s %s Instance Hour", od, map[string]string{"Linux": "Linux", "Windows": "Windows"}[os], itype),
			unit:        "Hrs", odRate: od, linuxRate: linux, itype: itype, ifamily: family, os: os, nf: nf,
			productMap: map[string]string{"product_name": "Amazon Elastic Compute Cloud", "region": r.code, "operating_system": os, "tenancy": "Shared", "vcpu": fmt.Sprint(vcpu), "memory": mem, "instance_type": itype},
			tags:       o.tagsFor(rng, a, appName), base: 1, slot: slot, slots: slots, group: group, burst: burst, compute: true,
		})
		// every instance has a root volume (burst instances' volumes go with them)
		if slot < max(slots, 1) {
			inst := o.res[len(o.res)-1]
			o.addEBS(rng, a, r, az(r), 30+10*rng.IntN(10), "gp3", appName)
			o.res[len(o.res)-1].attachedTo = inst
		}
	}

	// Fixed fleets in the first accounts, so that the RIs and the EC2
	// Instance Savings Plan have usage to cover.
	switch anchor {
	case 0:
		for range 4 {
			ec2(regs[0], "c6i.xlarge", "Linux", a.Team+"-api", 0, 1)
		}
		// An auto scaling group of 6 that may burst to 24 instances: the
		// runaway scaling anomaly happens here.
		for i := range 24 {
			burst = true
			ec2(regs[0], "m5.2xlarge", "Linux", a.Team+"-worker", i, 6)
			burst = false
		}
		for range 2 {
			o.addRDS(rng, a, regs[0], "db.r6g.large", "PostgreSQL", a.Team+"-api")
		}
	case 1:
		for i := range 4 {
			ec2(regs[0], "m5.2xlarge", pick("Linux", "Windows"), a.Team+"-web", i, 4)
		}
	}

	scale := a.scale
	fixed := max(1, int(float64(n)/8*scale))
	for range fixed {
		r := home
		if rng.IntN(5) == 0 {
			r = regs[rng.IntN(len(regs))]
		}
		os := "Linux"
		if rng.IntN(8) == 0 {
			os = "Windows"
		}
		fam := pick("m5", "c6i", "r6g", "t3")
		if fam == "r6g" {
			os = "Linux"
		}
		size := pick("large", "xlarge", "2xlarge")
		if fam == "t3" {
			size = pick("medium", "large")
		}
		ec2(r, fam+"."+size, os, app(), 0, 1)
	}
	slots := max(2, int(float64(n)/5*scale))
	asgType := pick("c6i.large", "m5.large", "t3.large", "r6g.large")
	asgApp := a.Team + "-web"
	for s := range slots {
		ec2(home, asgType, "Linux", asgApp, s, slots)
	}
	for range max(1, n/10) {
		o.addEBS(rng, a, home, az(home), 100*(1+rng.IntN(20)), pick("gp3", "gp2"), app())
	}
	for range max(1, n/20) {
		o.addRDS(rng, a, home, pick("db.t3.medium", "db.m5.large", "db.r6g.large"), pick("PostgreSQL", "MySQL"), app())
	}
	for range max(1, n/20) {
		o.addS3(rng, a, home, app())
	}
	for range max(1, n/20) {
		o.addLambda(rng, a, home, app())
	}
	for range max(1, n/20) {
		o.addFargate(rng, a, home, app())
	}
	o.addNetwork(rng, a, home, az(home), app())
	o.addCloudWatch(rng, a, home)
}

func (o *org) addEBS(rng *rand.Rand, a *Account, r region, az string, sizeGB int, vt string, appName string) {
	rate := map[string]float64{"gp3": 0.08, "gp2": 0.10}[vt] * r.price
	o.add(&resource{
		acct: a, kind: kEBS, productCode: "AmazonEC2", servicecode: "AmazonEC2", productName: "Amazon Elastic Compute Cloud",
		family: "Storage", usageType: r.prefix + "EBS:VolumeUsage." + vt, operation: "CreateVolume-" + strings.ToUpper(vt[:1]) + vt[1:],
		region: r, az: az, resourceID: "vol-0" + hexID(rng, 16),
		description: fmt.Sprintf("$%.3g per GB-month of General Purpose SSD (%s) provisioned storage - %s", rate, vt, r.name),
		unit:        "GB-Mo", odRate: rate, productMap: map[string]string{"product_name": "Amazon Elastic Compute Cloud", "region": r.code, "volume_api_name": vt},
		tags: o.tagsFor(rng, a, appName), base: float64(sizeGB), // per month; divided by hours when used
	})
}

func (o *org) addRDS(rng *rand.Rand, a *Account, r region, class, engine, appName string) {
	od := rdsPrice(class) * r.price
	op := map[string]string{"PostgreSQL": "CreateDBInstance:0014", "MySQL": "CreateDBInstance:0002"}[engine]
	name := fmt.Sprintf("%s-%s", appName, hexID(rng, 4))
	arn := fmt.Sprintf("arn:aws:rds:%s:%s:db:%s", r.code, a.ID, name)
	pm := map[string]string{"product_name": "Amazon Relational Database Service", "region": r.code, "database_engine": engine, "deployment_option": "Single-AZ", "instance_type": class}
	tags := o.tagsFor(rng, a, appName)
	_, _, _, nf := ec2Price(strings.TrimPrefix(class, "db."))
	o.add(&resource{
		acct: a, kind: kRDS, productCode: "AmazonRDS", servicecode: "AmazonRDS", productName: "Amazon Relational Database Service",
		family: "Database Instance", usageType: r.prefix + "InstanceUsage:" + class, operation: op, region: r, az: r.code + "a",
		resourceID: arn, description: fmt.Sprintf("$%.4g per RDS %s Single-AZ instance hour (or partial hour) running %s", od, class, engine),
		unit: "Hrs", odRate: od, itype: class, ifamily: strings.Split(class, ".")[1], engine: engine, nf: nf, productMap: pm, tags: tags, base: 1,
	})
	size := float64(100 * (1 + rng.IntN(10)))
	rate := 0.115 * r.price
	o.add(&resource{
		acct: a, kind: kRDSStorage, productCode: "AmazonRDS", servicecode: "AmazonRDS", productName: "Amazon Relational Database Service",
		family: "Database Storage", usageType: r.prefix + "RDS:GP2-Storage", operation: op, region: r, az: r.code + "a",
		resourceID: arn, description: fmt.Sprintf("$%.3g per GB-month of provisioned GP2 storage running %s", rate, engine),
		unit: "GB-Mo", odRate: rate, productMap: pm, tags: tags, base: size,
	})
}

func (o *org) addS3(rng *rand.Rand, a *Account, r region, appName string) {
	bucket := fmt.Sprintf("%s-%s-%s", strings.ToLower(o.name), appName, hexID(rng, 6))
	tags := o.tagsFor(rng, a, appName)
	pm := map[string]string{"product_name": "Amazon Simple Storage Service", "region": r.code, "storage_class": "General Purpose"}
	o.add(&resource{
		acct: a, kind: kS3Storage, productCode: "AmazonS3", servicecode: "AmazonS3", productName: "Amazon Simple Storage Service",
		family: "Storage", usageType: r.prefix + "TimedStorage-ByteHrs", operation: "StandardStorage", region: r,
		resourceID: bucket, description: "$0.023 per GB - first 50 TB / month of storage used", unit: "GB-Mo", odRate: 0.023 * r.price,
		productMap: pm, tags: tags, base: float64(500 * (1 + rng.IntN(40))),
	})
	o.add(&resource{
		acct: a, kind: kS3Requests, productCode: "AmazonS3", servicecode: "AmazonS3", productName: "Amazon Simple Storage Service",
		family: "API Request", usageType: r.prefix + "Requests-Tier1", operation: "PutObject", region: r,
		resourceID: bucket, description: "$0.005 per 1,000 PUT, COPY, POST, or LIST requests", unit: "Requests", odRate: 0.000005 * r.price,
		productMap: pm, tags: tags, base: float64(2000 * (1 + rng.IntN(50))), diurnal: 0.5, noise: 0.2,
	})
}

func (o *org) addLambda(rng *rand.Rand, a *Account, r region, appName string) {
	fn := fmt.Sprintf("%s-%s", appName, hexID(rng, 4))
	arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.code, a.ID, fn)
	tags := o.tagsFor(rng, a, appName)
	pm := map[string]string{"product_name": "AWS Lambda", "region": r.code}
	gbs := float64(4000 * (1 + rng.IntN(30))) // $0.07 to $2 an hour a function
	o.add(&resource{
		acct: a, kind: kLambdaGBs, productCode: "AWSLambda", servicecode: "AWSLambda", productName: "AWS Lambda",
		family: "Serverless", usageType: r.prefix + "Lambda-GB-Second", operation: "Invoke", region: r, resourceID: arn,
		description: "AWS Lambda - Total Compute - " + r.name, unit: "Lambda-GB-Second", odRate: 0.0000166667 * r.price,
		productMap: pm, tags: tags, base: gbs, diurnal: 0.7, noise: 0.15, compute: true,
	})
	o.add(&resource{
		acct: a, kind: kLambdaReq, productCode: "AWSLambda", servicecode: "AWSLambda", productName: "AWS Lambda",
		family: "Serverless", usageType: r.prefix + "Request", operation: "Invoke", region: r, resourceID: arn,
		description: "AWS Lambda - Total Requests - " + r.name, unit: "Requests", odRate: 0.0000002 * r.price,
		productMap: pm, tags: tags, base: gbs * 4, diurnal: 0.7, noise: 0.15,
	})
}

func (o *org) addFargate(rng *rand.Rand, a *Account, r region, appName string) {
	pre := r.prefix
	if pre == "" {
		pre = "USE1-"
	}
	svc := fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", r.code, a.ID, a.Team, appName)
	tags := o.tagsFor(rng, a, appName)
	pm := map[string]string{"product_name": "Amazon Elastic Container Service", "region": r.code, "operating_system": "Linux"}
	tasks := float64(2 + rng.IntN(12))
	o.add(&resource{
		acct: a, kind: kFargateCPU, productCode: "AmazonECS", servicecode: "AmazonECS", productName: "Amazon Elastic Container Service",
		family: "Compute", usageType: pre + "Fargate-vCPU-Hours:perCPU", operation: "FargateTask", region: r, resourceID: svc,
		description: "AWS Fargate - vCPU - " + r.name, unit: "hours", odRate: 0.04048 * r.price,
		productMap: pm, tags: tags, base: tasks, diurnal: 0.4, noise: 0.05, compute: true,
	})
	o.add(&resource{
		acct: a, kind: kFargateMem, productCode: "AmazonECS", servicecode: "AmazonECS", productName: "Amazon Elastic Container Service",
		family: "Compute", usageType: pre + "Fargate-GB-Hours", operation: "FargateTask", region: r, resourceID: svc,
		description: "AWS Fargate - Memory - " + r.name, unit: "GB-Hours", odRate: 0.004445 * r.price,
		productMap: pm, tags: tags, base: tasks * 4, diurnal: 0.4, noise: 0.05, compute: true,
	})
}

func (o *org) addNetwork(rng *rand.Rand, a *Account, r region, az, appName string) {
	tags := o.tagsFor(rng, a, appName)
	o.add(&resource{
		acct: a, kind: kDataOut, productCode: "AmazonEC2", servicecode: "AWSDataTransfer", productName: "AWS Data Transfer",
		family: "Data Transfer", usageType: r.prefix + "DataTransfer-Out-Bytes", operation: "RunInstances", region: r,
		description: "$0.09 per GB - first 10 TB / month data transfer out beyond the global free tier", unit: "GB", odRate: 0.09 * r.price,
		fromLoc: r.name, toLoc: "External", productMap: map[string]string{"product_name": "AWS Data Transfer", "transfer_type": "AWS Outbound"},
		tags: map[string]string{}, base: 2 + 20*rng.Float64()*a.scale, diurnal: 0.6, noise: 0.2,
	})
	o.add(&resource{
		acct: a, kind: kDataAZ, productCode: "AmazonEC2", servicecode: "AWSDataTransfer", productName: "AWS Data Transfer",
		family: "Data Transfer", usageType: r.prefix + "DataTransfer-Regional-Bytes", operation: "InterZone-In", region: r,
		description: "$0.010 per GB - regional data transfer - in/out/between EC2 AZs or using elastic IPs or ELB", unit: "GB", odRate: 0.01,
		fromLoc: r.name, toLoc: r.name, productMap: map[string]string{"product_name": "AWS Data Transfer", "transfer_type": "IntraRegion"},
		tags: map[string]string{}, base: 5 + 40*rng.Float64()*a.scale, diurnal: 0.5, noise: 0.2,
	})
	nat := fmt.Sprintf("arn:aws:ec2:%s:%s:natgateway/nat-0%s", r.code, a.ID, hexID(rng, 16))
	pm := map[string]string{"product_name": "Amazon Elastic Compute Cloud", "region": r.code, "group": "NGW:NatGateway"}
	o.add(&resource{
		acct: a, kind: kNATHours, productCode: "AmazonEC2", servicecode: "AmazonEC2", productName: "Amazon Elastic Compute Cloud",
		family: "NAT Gateway", usageType: r.prefix + "NatGateway-Hours", operation: "NatGateway", region: r, az: az, resourceID: nat,
		description: fmt.Sprintf("$%.3g per NAT Gateway Hour", 0.045*r.price), unit: "Hrs", odRate: 0.045 * r.price,
		productMap: pm, tags: tags, base: 1,
	})
	o.add(&resource{
		acct: a, kind: kNATBytes, productCode: "AmazonEC2", servicecode: "AmazonEC2", productName: "Amazon Elastic Compute Cloud",
		family: "NAT Gateway", usageType: r.prefix + "NatGateway-Bytes", operation: "NatGateway", region: r, az: az, resourceID: nat,
		description: fmt.Sprintf("$%.3g per GB Data Processed by NAT Gateways", 0.045*r.price), unit: "GB", odRate: 0.045 * r.price,
		productMap: pm, tags: tags, base: 1 + 10*rng.Float64()*a.scale, diurnal: 0.6, noise: 0.2,
	})
}

func (o *org) addCloudWatch(rng *rand.Rand, a *Account, r region) {
	pm := map[string]string{"product_name": "AmazonCloudWatch", "region": r.code}
	o.add(&resource{
		acct: a, kind: kCWMetrics, productCode: "AmazonCloudWatch", servicecode: "AmazonCloudWatch", productName: "AmazonCloudWatch",
		family: "Metric", usageType: r.prefix + "CW:MetricMonitorUsage", operation: "MetricStorage", region: r,
		description: "$0.30 per metric-month - first 10,000 metrics", unit: "Metrics", odRate: 0.30,
		productMap: pm, tags: map[string]string{}, base: float64(100 + rng.IntN(900)),
	})
	o.add(&resource{
		acct: a, kind: kCWLogs, productCode: "AmazonCloudWatch", servicecode: "AmazonCloudWatch", productName: "AmazonCloudWatch",
		family: "Data Payload", usageType: r.prefix + "DataProcessing-Bytes", operation: "PutLogEvents", region: r,
		resourceID:  fmt.Sprintf("arn:aws:logs:%s:%s:log-group:/aws/lambda/%s", r.code, a.ID, a.Team),
		description: "$0.50 per GB custom log data ingested", unit: "GB", odRate: 0.5,
		productMap: pm, tags: o.tagsFor(rng, a, a.Team+"-logs"), base: 0.2 + 2*rng.Float64()*a.scale, diurnal: 0.5, noise: 0.2,
	})
}
